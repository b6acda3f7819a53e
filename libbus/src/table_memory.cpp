#include "bus/table_memory.hpp"

#include <algorithm>

#include "internal/aligned_heap.hpp"
#include "internal/page_warmer.hpp"

namespace bus {

namespace {

// What a prepared table is aligned to; a table asking for more comes from
// the heap.
constexpr std::size_t prepared_align = 64;

using internal::heap_allocate;
using internal::heap_deallocate;

} // namespace

table_memory::table_memory() = default;

table_memory::~table_memory() = default;

void* table_memory::allocate(std::size_t bytes, std::size_t align) {
  last_ = bytes;
  if (bytes < prepared_from)
    return heap_allocate(bytes, align);
  // Taken however far the warmer got: its touches write back what they
  // read, and the pages it has not reached fault here, as without it. Not
  // for a table of the current one's size (a map rebuilt in place after
  // erases: Boost's flat map lowers its max load as it erases), which would
  // keep twice its bytes resident and prepare twice as many again (see
  // docs/benchmarks.md, "Read models' next tables faulted in ahead"). One
  // too small is of no use to any later table.
  if (next_ && next_bytes_ >= bytes && next_bytes_ <= 2 * bytes
      && align <= prepared_align) {
    ++warm_tables_;
    live_.push_back(std::move(next_));
    return live_.back().get();
  }
  if (next_ && next_bytes_ < bytes)
    next_.reset();
  ++cold_tables_;
  return heap_allocate(bytes, align);
}

void table_memory::deallocate(void* p, std::size_t, std::size_t align) noexcept {
  auto i = std::find_if(live_.begin(), live_.end(),
                        [p](const auto& block) { return block.get() == p; });
  if (i == live_.end()) {
    heap_deallocate(p, align);
    return;
  }
  // Freed with the last reference: the warmer may still hold one.
  std::swap(*i, live_.back());
  live_.pop_back();
}

void table_memory::prepare_double() {
  // The doubled table is a little over twice the bytes (a sentinel group).
  auto bytes = 2 * last_ + 4096;
  if (bytes < prepared_from || (next_ && next_bytes_ >= bytes))
    return;
  // From the heap: see table_memory.hpp.
  std::shared_ptr<char> block{static_cast<char*>(heap_allocate(bytes, prepared_align)),
                              [](char* p) { heap_deallocate(p, prepared_align); }};
  if (internal::warm_in_background(block, block.get(), bytes)) {
    next_ = std::move(block);
    next_bytes_ = bytes;
  }
}

} // namespace bus
