#pragma once

// The in-memory log's store of every event, in the compact binary records
// of event_record.hpp (some 40 to 100 bytes for a small event, where the
// event as Boost.JSON objects takes about 600): blocks of 256 KiB, each
// allocated once and filled with the records of consecutive events (a
// larger record gets a block of its own), with the offset of every 8th
// record, so that finding an event walks at most 7 record lengths. Reading
// decodes fresh events. Owned by one actor at a time; not thread-safe.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bus/event.hpp"

namespace bus::internal {

class record_store {
public:
  /// Stores `e`, which gets the next seq (size() + 1).
  void append(const event& e);

  /// Returns the number of events stored (the seq of the last one).
  std::uint64_t size() const noexcept { return size_; }

  /// Returns the record body of the event with `seq` (1 <= seq <= size()).
  std::string_view body(std::uint64_t seq) const;

  /// Returns the id of the event with `seq` (1 <= seq <= size()).
  std::string_view id(std::uint64_t seq) const;

  /// Reads up to `max` events from `from` on (1 <= from <= size()), their
  /// payloads left encoded (see lazy_records).
  shared_events read(std::uint64_t from, std::size_t max) const;

  /// Returns the bytes the blocks use.
  std::size_t memory_bytes() const noexcept;

  /// The bytes a block takes from the allocator (a larger record gets a
  /// block of its own, as large as it): a power of two, which allocators
  /// serve without rounding up to a larger size class.
  static constexpr std::size_t block_bytes = 256 << 10;

  /// Returns the number of blocks.
  std::size_t block_count() const noexcept { return blocks_.size(); }

  /// Returns the bytes the blocks' buffers take from the allocator.
  std::size_t block_allocation_bytes() const noexcept;

private:
  static constexpr std::size_t mark_every = 8;

  struct block {
    std::uint32_t count = 0;
    /// Never grows past its first capacity: no reallocation, no slack.
    std::string bytes;
    /// Offset of record 0, 8, 16, ... of the block.
    std::vector<std::uint32_t> marks;
  };

  /// Returns the block holding `seq` and the seq of its first record.
  std::pair<const block*, std::uint64_t> block_of(std::uint64_t seq) const;

  std::vector<block> blocks_;
  /// The seq of each block's first record: searched apart from the blocks,
  /// so that a lookup touches a few cache lines, not a block each.
  std::vector<std::uint64_t> first_seqs_;
  std::uint64_t size_ = 0;
  std::string scratch_; // the record being appended
};

} // namespace bus::internal
