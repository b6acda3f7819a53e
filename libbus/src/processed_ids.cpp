#include "bus/processed_ids.hpp"

namespace bus {

bool processed_ids::insert_out_of_order(std::uint64_t seq) {
  if (contains(seq))
    return false;
  if (seq == watermark_ + 1) {
    watermark_ = seq;
    compact();
  } else {
    above_.insert(seq);
  }
  return true;
}

void processed_ids::advance_to(std::uint64_t seq) {
  if (seq <= watermark_)
    return;
  watermark_ = seq;
  above_.erase(above_.begin(), above_.upper_bound(seq));
  compact();
}

void processed_ids::compact() {
  // Seqs that now touch the watermark join it and leave the sparse set.
  auto i = above_.begin();
  while (i != above_.end() && *i == watermark_ + 1) {
    watermark_ = *i;
    i = above_.erase(i);
  }
}

std::size_t processed_ids::memory_bytes() const noexcept {
  // A std::set node holds the value plus three pointers and a colour word.
  constexpr std::size_t node_bytes = sizeof(std::uint64_t) + 4 * sizeof(void*);
  return above_.size() * node_bytes;
}

std::vector<std::uint64_t> processed_ids::sparse() const {
  return {above_.begin(), above_.end()};
}

void processed_ids::restore(std::uint64_t watermark,
                            const std::vector<std::uint64_t>& above) {
  watermark_ = watermark;
  above_.clear();
  for (auto seq : above)
    if (seq > watermark_)
      above_.insert(seq);
  compact();
}

void processed_ids::clear() noexcept {
  watermark_ = 0;
  above_.clear();
}

} // namespace bus
