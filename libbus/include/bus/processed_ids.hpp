#pragma once

// The processed-id set of one projector.
//
// The log gives every id exactly one seq (it never appends an id twice), so
// "has this event been processed" is "has this seq been processed". The set
// is a contiguous watermark (every seq up to it is processed) plus the few
// seqs processed above it out of order. Delivery is in seq order, so the
// sparse part is empty in steady state and the set costs a few bytes in all,
// not bytes per event: ids the watermark covers are compacted away, and no
// id that dedup still needs is ever dropped.

#include <cstddef>
#include <cstdint>
#include <set>
#include <vector>

namespace bus {

/// Tracks which seqs a projector has processed.
class processed_ids {
public:
  /// Returns true if `seq` has been processed.
  bool contains(std::uint64_t seq) const {
    return seq <= watermark_ || above_.count(seq) > 0;
  }

  /// Marks `seq` processed. Returns false if it already was.
  bool insert(std::uint64_t seq) {
    // In order, the common case: the watermark moves, nothing to compact.
    if (seq == watermark_ + 1 && above_.empty()) {
      watermark_ = seq;
      return true;
    }
    return insert_out_of_order(seq);
  }

  /// Marks every seq up to `seq` processed (events that were not for this
  /// projector count as processed too).
  void advance_to(std::uint64_t seq);

  /// Returns the highest seq such that every seq up to it is processed.
  std::uint64_t watermark() const noexcept { return watermark_; }

  /// Returns how many seqs are processed above the watermark.
  std::size_t sparse_count() const noexcept { return above_.size(); }

  /// Returns the heap bytes the set uses, for memory reports.
  std::size_t memory_bytes() const noexcept;

  /// Forgets everything.
  void clear() noexcept;

  /// Returns the seqs processed above the watermark, in order (snapshots).
  std::vector<std::uint64_t> sparse() const;

  /// Replaces the set with `watermark` and the seqs `above` it (restore).
  void restore(std::uint64_t watermark, const std::vector<std::uint64_t>& above);

private:
  bool insert_out_of_order(std::uint64_t seq);

  void compact();

  std::uint64_t watermark_ = 0;
  std::set<std::uint64_t> above_;
};

} // namespace bus
