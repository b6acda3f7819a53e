#pragma once

// Which seqs of a recent stretch of the log something did, one bit per seq.
//
// A blue/green shadow marks the events its model took while it runs beside
// the live projector; after the switch, the publishes that waited on the
// old projector during the hand-over are answered from these marks (see
// actors/src/projector_hand_over.cpp). The stretch starts after a given
// seq and slides forward past a cap, so a long-lived window costs a bounded
// amount of memory whatever the traffic.

#include <cstddef>
#include <cstdint>
#include <deque>

namespace bus {

/// A set of seqs after a start, as a sliding bitmap.
class seq_window {
public:
  /// About 2 MB of bits: 16 M seqs.
  static constexpr std::size_t default_capacity = std::size_t{1} << 24;

  /// Covers the seqs after `after`, at most `capacity` of them at a time.
  explicit seq_window(std::uint64_t after = 0, std::size_t capacity = default_capacity);

  /// True when the window can tell whether `seq` was marked: it is after
  /// the start (not slid past) and not after the seal.
  bool covers(std::uint64_t seq) const noexcept {
    return seq > after_ && seq <= sealed_;
  }

  /// Stops marking: seqs after `seq` are not covered from now on.
  void seal(std::uint64_t seq) noexcept;

  /// True once sealed.
  bool sealed() const noexcept { return sealed_ != unsealed; }

  /// The last seq covered (the seal), or the highest seq when unsealed.
  std::uint64_t sealed_through() const noexcept { return sealed_; }

  /// True when `seq` is covered and marked.
  bool contains(std::uint64_t seq) const noexcept;

  /// Marks `seq` (ignored when not covered); a seq past the capacity slides
  /// the window forward, forgetting its oldest seqs.
  void insert(std::uint64_t seq);

  /// Forgets every seq up to `seq`: the window then starts after it.
  void forget_through(std::uint64_t seq);

  /// The last seq not covered.
  std::uint64_t after() const noexcept { return after_; }

  /// Heap bytes held, for memory reports.
  std::size_t memory_bytes() const noexcept { return words_.size() * sizeof(word); }

private:
  using word = std::uint64_t;
  static constexpr std::uint64_t bits = 64;
  static constexpr std::uint64_t unsealed = ~std::uint64_t{0};

  std::uint64_t after_;
  std::uint64_t sealed_ = unsealed;
  /// The seq of bit 0 of words_.front(), a multiple of 64 and <= after_ + 1.
  std::uint64_t base_;
  std::size_t max_words_;
  std::deque<word> words_;
};

} // namespace bus
