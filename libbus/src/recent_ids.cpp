#include "internal/recent_ids.hpp"

#include <algorithm>
#include <utility>

namespace bus::internal {

namespace {

std::size_t slots_for(std::size_t entries) {
  std::size_t n = 16;
  while (n < entries * 2)
    n *= 2;
  return n;
}

} // namespace

recent_ids::recent_ids(std::size_t window)
  : generation_(std::max<std::size_t>(window, 1)) {
  current_.slots.resize(slots_for(generation_));
}

void recent_ids::table::put(std::uint64_t h, std::uint64_t seq) noexcept {
  auto mask = slots.size() - 1;
  auto i = h & mask;
  while (slots[i].seq != 0)
    i = (i + 1) & mask;
  slots[i] = slot{h, seq};
  ++size;
  max_seq = std::max(max_seq, seq);
}

void recent_ids::table::clear() noexcept {
  std::fill(slots.begin(), slots.end(), slot{});
  size = 0;
  max_seq = 0;
}

void recent_ids::grow(table& t, std::size_t capacity) {
  table bigger;
  bigger.slots.resize(capacity);
  for (auto& s : t.slots)
    if (s.seq != 0)
      bigger.put(s.hash, s.seq);
  t = std::move(bigger);
}

void recent_ids::insert(std::uint64_t h, std::uint64_t seq) {
  // More than a generation only while events wait for a sync.
  if ((current_.size + 1) * 2 > current_.slots.size())
    grow(current_, current_.slots.size() * 2);
  current_.put(h, seq);
}

void recent_ids::rotate(std::uint64_t durable_head) {
  if (current_.size < generation_ || previous_.max_seq > durable_head)
    return;
  std::swap(current_, previous_);
  auto want = slots_for(generation_);
  if (current_.slots.size() != want) {
    current_.slots.assign(want, slot{});
    current_.size = 0;
    current_.max_seq = 0;
  } else {
    current_.clear();
  }
}

void recent_ids::erase_above(std::uint64_t seq) {
  for (auto* t : {&current_, &previous_}) {
    if (t->max_seq <= seq)
      continue;
    table kept;
    kept.slots.resize(t->slots.size());
    for (auto& s : t->slots)
      if (s.seq != 0 && s.seq <= seq)
        kept.put(s.hash, s.seq);
    *t = std::move(kept);
  }
}

std::size_t recent_ids::memory_bytes() const noexcept {
  return (current_.slots.capacity() + previous_.slots.capacity()) * sizeof(slot);
}

} // namespace bus::internal
