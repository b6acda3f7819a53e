#include "bus/seq_window.hpp"

#include <algorithm>

namespace bus {

seq_window::seq_window(std::uint64_t after, std::size_t capacity)
  : after_(after),
    base_((after + 1) / bits * bits),
    max_words_(std::max<std::size_t>(capacity / bits, 1)) {
  // nop
}

bool seq_window::contains(std::uint64_t seq) const noexcept {
  if (!covers(seq))
    return false;
  auto index = (seq - base_) / bits;
  return index < words_.size() && ((words_[index] >> ((seq - base_) % bits)) & 1) != 0;
}

void seq_window::insert(std::uint64_t seq) {
  if (!covers(seq))
    return;
  auto index = (seq - base_) / bits;
  if (index >= max_words_) {
    // Slide: the seqs before the word holding `seq`'s oldest neighbour are
    // forgotten.
    auto first_kept = base_ + (index - max_words_ + 1) * bits;
    forget_through(first_kept - 1);
    index = (seq - base_) / bits;
  }
  if (words_.size() <= index)
    words_.resize(index + 1, 0);
  words_[index] |= word{1} << ((seq - base_) % bits);
}

void seq_window::seal(std::uint64_t seq) noexcept {
  sealed_ = std::min(sealed_, seq);
}

void seq_window::forget_through(std::uint64_t seq) {
  if (seq <= after_)
    return;
  after_ = seq;
  auto new_base = (seq + 1) / bits * bits;
  auto drop = std::min<std::uint64_t>((new_base - base_) / bits, words_.size());
  words_.erase(words_.begin(), words_.begin() + static_cast<std::ptrdiff_t>(drop));
  base_ = new_base;
}

} // namespace bus
