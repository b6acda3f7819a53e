#include "internal/record_store.hpp"

#include <algorithm>

#include "internal/event_record.hpp"

namespace bus::internal {

void record_store::append(const event& e) {
  scratch_.clear();
  encode_event(e, scratch_);
  if (blocks_.empty()
      || blocks_.back().bytes.capacity() - blocks_.back().bytes.size()
           < scratch_.size()) {
    auto& b = blocks_.emplace_back();
    first_seqs_.push_back(size_ + 1);
    // A string allocates a byte more than its capacity, for its final
    // null: a capacity of block_bytes took jemalloc's next size class
    // (320 KiB), a fifth of every block never used.
    b.bytes.reserve(std::max(block_bytes - 1, scratch_.size()));
  }
  auto& b = blocks_.back();
  if (b.count % mark_every == 0)
    b.marks.push_back(static_cast<std::uint32_t>(b.bytes.size()));
  b.bytes.append(scratch_);
  ++b.count;
  ++size_;
}

std::pair<const record_store::block*, std::uint64_t>
record_store::block_of(std::uint64_t seq) const {
  // The last block starting at or before `seq`.
  auto i = std::upper_bound(first_seqs_.begin(), first_seqs_.end(), seq) - 1;
  return {&blocks_[static_cast<std::size_t>(i - first_seqs_.begin())], *i};
}

std::string_view record_store::body(std::uint64_t seq) const {
  auto [bp, first] = block_of(seq);
  auto& b = *bp;
  auto index = static_cast<std::size_t>(seq - first);
  auto offset = b.marks[index / mark_every];
  record_cursor records{b.bytes.data() + offset, b.bytes.size() - offset};
  for (auto skip = index % mark_every; skip > 0; --skip)
    records.next();
  return records.next();
}

std::string_view record_store::id(std::uint64_t seq) const {
  return record_id(body(seq));
}

shared_events record_store::read(std::uint64_t from, std::size_t max) const {
  auto n = static_cast<std::size_t>(std::min<std::uint64_t>(max, size_ - from + 1));
  lazy_records result{n};
  while (result.size() < n) {
    auto [bp, first] = block_of(from);
    auto& b = *bp;
    auto index = static_cast<std::size_t>(from - first);
    auto offset = b.marks[index / mark_every];
    record_cursor records{b.bytes.data() + offset, b.bytes.size() - offset};
    for (auto skip = index % mark_every; skip > 0; --skip)
      records.next();
    for (; index < b.count && result.size() < n; ++index, ++from)
      result.add(records.next(), from);
  }
  return result.finish();
}

std::size_t record_store::block_allocation_bytes() const noexcept {
  std::size_t result = 0;
  for (auto& b : blocks_)
    result += b.bytes.capacity() + 1; // its final null
  return result;
}

std::size_t record_store::memory_bytes() const noexcept {
  std::size_t result = blocks_.capacity() * sizeof(block)
                       + first_seqs_.capacity() * sizeof(std::uint64_t)
                       + block_allocation_bytes();
  for (auto& b : blocks_)
    result += b.marks.capacity() * sizeof(std::uint32_t);
  return result;
}

} // namespace bus::internal
