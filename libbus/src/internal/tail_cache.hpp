#pragma once

// The recent tail of a log, kept as events in memory: reads of recent seqs
// (a projector catching up a little, a redelivery, an id check) are views
// of stored events, while older ones come from the log's compact records or
// its disk. Events are kept in shared chunks of reserved capacity, filled
// by successive appends and never reallocated, so views handed out stay
// valid while later appends fill the chunk, and a read returns up to a
// whole chunk whatever the publishers' batch size.
//
// The cache is bounded: once it holds more than `capacity` events, whole
// chunks go from the front, but only those the owner allows (a durable log
// keeps every event it has not yet written). Readers holding a view keep
// its chunk alive. Owned by one actor at a time; views may be read from
// any thread.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "bus/event.hpp"
#include "bus/vector_pool.hpp"

namespace bus::internal {

class tail_cache {
public:
  /// Events per chunk by default; also what one read returns at most.
  static constexpr std::size_t default_chunk_events = 4096;

  /// A cache that keeps at least the last `capacity` events (fewer when
  /// fewer were pushed), in chunks of `chunk_events`.
  explicit tail_cache(std::size_t capacity,
                      std::size_t chunk_events = default_chunk_events);

  /// Makes room for `n` events with consecutive seqs from `first_seq` in
  /// one chunk (a fresh one unless the last has room), so that push() of
  /// them makes one contiguous view. `first_seq` follows the last pushed.
  void prepare(std::uint64_t first_seq, std::size_t n);

  /// Stores `e` (its seq the next one) in the chunk prepare() chose.
  void push(event&& e);

  /// Returns the events [from, to] (to <= the last pushed), which prepare()
  /// put in one chunk.
  event_batch view(std::uint64_t from, std::uint64_t to) const;

  /// Returns up to `max` events from `from` on (to the end of its chunk),
  /// or none when `from` is not held.
  event_batch read(std::uint64_t from, std::size_t max) const;

  /// Returns the event with `seq`, or nullptr when it is not held.
  const event* find(std::uint64_t seq) const;

  /// Returns the oldest seq held, or 0 when nothing is.
  std::uint64_t first_seq() const noexcept;

  /// Returns the seq of the last event held, or 0 when nothing is.
  std::uint64_t last_seq() const noexcept;

  /// Returns the number of events held.
  std::size_t size() const noexcept { return size_; }

  /// Drops every event past `seq` (an append undone, or events that never
  /// became durable). Views of them stay valid; the chunk holding the first
  /// dropped one takes no more events.
  void drop_above(std::uint64_t seq);

  /// Evicts the oldest chunks while more than `capacity` events are held,
  /// but never one holding an event past `evictable_through`.
  void evict(std::uint64_t evictable_through);

private:
  struct chunk {
    std::uint64_t first_seq = 0;
    /// Valid events: those after `count` were dropped.
    std::size_t count = 0;
    /// False after a drop: later events go to a new chunk.
    bool open = true;
    std::shared_ptr<std::vector<event>> events;

    std::uint64_t last_seq() const noexcept { return first_seq + count - 1; }
  };

  const chunk* chunk_of(std::uint64_t seq) const;

  // Evicted chunks kept for reuse: those of a default tail, whose readers
  // may still hold a few more.
  static constexpr std::size_t spare_chunks = 4;

  std::size_t capacity_;
  std::size_t chunk_events_;
  std::deque<chunk> chunks_;
  /// Evicted chunks, once no view holds them, for the next ones: a chunk
  /// of fresh memory is hundreds of kilobytes of page faults.
  vector_pool<event> spare_;
  std::size_t size_ = 0;
};

} // namespace bus::internal
