#pragma once

// The logs' cache of events decoded for reads older than their tail. Such
// reads come from projectors catching up, several at a time over the same
// range (a bus of four projectors that fell behind pulls the same stretch
// four times): each aligned stretch of `chunk_events` seqs is decoded once
// and shared by views, not decoded once per reader. Holds the last few
// stretches read; views keep theirs alive after it leaves. Owned by the
// log; not thread-safe.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "bus/event.hpp"

namespace bus::internal {

/// Stretches a log keeps decoded.
constexpr std::size_t read_cache_slots = 4;

/// Reads of fewer events than this (an id check, a status) decode only
/// what they return and leave the cache alone.
constexpr std::size_t min_shared_read = 256;

class read_cache {
public:
  /// Keeps up to `slots` stretches of `chunk_events` seqs each.
  read_cache(std::size_t slots, std::size_t chunk_events);

  /// Returns the first seq of the aligned stretch holding `seq`.
  std::uint64_t stretch_of(std::uint64_t seq) const noexcept {
    return (seq - 1) / chunk_events_ * chunk_events_ + 1;
  }

  /// Returns the seq after the aligned stretch holding `seq`.
  std::uint64_t stretch_end(std::uint64_t seq) const noexcept {
    return stretch_of(seq) + chunk_events_;
  }

  /// Returns up to `max` cached events from `from` on (to the end of what is
  /// cached of its stretch), or none.
  event_batch read(std::uint64_t from, std::size_t max);

  /// Caches `events`, decoded from `first_seq` on within one stretch, and
  /// returns up to `max` of them from `from` on.
  event_batch add(std::uint64_t first_seq, shared_events events, std::uint64_t from,
                  std::size_t max);

  /// Forgets everything (the events may have changed).
  void clear() noexcept;

private:
  struct slot {
    std::uint64_t first_seq = 0;
    shared_events events;
    std::uint64_t used = 0; // for least-recently-used replacement
  };

  static event_batch view(const slot& s, std::uint64_t from, std::size_t max);

  std::size_t chunk_events_;
  std::vector<slot> slots_;
  std::uint64_t clock_ = 0;
};

} // namespace bus::internal
