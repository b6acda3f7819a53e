#include "bus/event_arena.hpp"

#include <algorithm>
#include <cstdint>

#include "internal/aligned_heap.hpp"

namespace bus {

namespace {

constexpr std::size_t max_block = 1 << 20;

} // namespace

event_arena::event_arena(std::size_t first_block, event_arena** self)
  : next_block_(std::clamp<std::size_t>(first_block, 256, max_block)) {
  *self = this;
}

event_arena::~event_arena() {
  // nop
}

event_arena::shared event_arena::make(std::size_t first_block) {
  event_arena* arena = nullptr;
  auto sp = boost::json::make_shared_resource<event_arena>(first_block, &arena);
  return {std::move(sp), arena};
}

void event_arena::seal() noexcept {
  state_ = phase::sealed;
}

std::size_t event_arena::block_bytes() const noexcept {
  std::size_t result = 0;
  for (auto& b : blocks_)
    result += b.size;
  return result;
}

bool event_arena::owns(const void* p) const noexcept {
  auto* x = static_cast<const unsigned char*>(p);
  // Blocks are few (each doubles the last): a linear search is cheap, and
  // only frees after the seal ask.
  for (auto& b : blocks_)
    if (std::less_equal<const unsigned char*>{}(b.data.get(), x)
        && std::less<const unsigned char*>{}(x, b.data.get() + b.size))
      return true;
  return false;
}

void event_arena::add_block(std::size_t at_least) {
  auto size = std::max(next_block_, at_least);
  next_block_ = std::min(next_block_ * 2, max_block);
  block b;
  b.data.reset(new unsigned char[size]);
  b.size = size;
  pos_ = b.data.get();
  end_ = pos_ + size;
  blocks_.push_back(std::move(b));
}

void* event_arena::do_allocate(std::size_t n, std::size_t align) {
  if (state_ == phase::sealed) {
    return internal::heap_allocate(n, align);
  }
  auto aligned = [&] {
    auto addr = reinterpret_cast<std::uintptr_t>(pos_);
    return reinterpret_cast<unsigned char*>((addr + align - 1)
                                            & ~(std::uintptr_t{align} - 1));
  };
  auto* p = aligned();
  if (pos_ == nullptr || p > end_ || static_cast<std::size_t>(end_ - p) < n) {
    add_block(n + align);
    p = aligned();
  }
  pos_ = p + n;
  return p;
}

void event_arena::do_deallocate(void* p, std::size_t, std::size_t align) {
  // Memory of the blocks is freed with them; only the heap's is freed here.
  if (state_ == phase::filling || owns(p))
    return;
  internal::heap_deallocate(p, align);
}

bool event_arena::do_is_equal(
  const boost::json::memory_resource& other) const noexcept {
  return this == &other;
}

} // namespace bus
