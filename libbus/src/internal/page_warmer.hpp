#pragma once

// Memory faulted in by a background thread before it is used.
//
// On this project's virtual machines the first write to a page costs about
// 10 us per 4 KiB, and a transparent huge page is zeroed in one fault: some
// 5 ms during which the faulting thread stops. The memory log's id index
// maps its next, doubled table ahead; when the bus actor touched that
// table's pages itself, each huge page stopped it for 5 ms (every 8 k
// events), which set the tail of the publish latency. The warmer touches
// such a mapping's pages on a thread of its own, at low priority, before
// its owner writes to them: the owner waits for nothing. The warmer's touch
// writes back the value it reads (an atomic or with zero), so an owner may
// use the bytes at any time, the pages not reached yet faulting on the
// owner as they would without a warmer: a growing_map's next table, bytes
// of the heap (bus/table_memory.hpp), is used so. The id index waits for
// its mapping's warm() instead. The warmer takes the smallest piece queued
// first: a model's next table, needed soon, does not wait behind the id
// index's tens of MB. It shares ownership of what it touches while it
// works, so memory its owner drops meanwhile is freed only after the
// warmer let go of it.
//
// A mapping is owned by one thread at a time besides the warmer; warm() may
// be read from any thread.

#include <atomic>
#include <cstddef>
#include <memory>

namespace bus::internal {

/// An anonymous private mapping, zero-filled by the kernel page by page.
class anonymous_mapping {
public:
  enum class pages { small, huge };

  /// Maps `bytes` (a multiple of the page size); huge pages are asked for
  /// with MADV_HUGEPAGE (advice: refused without transparent huge pages).
  /// Throws std::bad_alloc when the kernel refuses the mapping.
  static std::shared_ptr<anonymous_mapping> create(std::size_t bytes, pages kind);

  anonymous_mapping(const anonymous_mapping&) = delete;
  anonymous_mapping& operator=(const anonymous_mapping&) = delete;

  /// Unmaps what is still mapped.
  ~anonymous_mapping();

  void* data() const noexcept { return base_; }

  std::size_t size() const noexcept { return bytes_; }

  /// Unmaps the bytes below `end` (rounded down to a page) not unmapped yet:
  /// they are never read again. Only for a mapping the warmer is done with.
  void release_below(std::size_t end) noexcept;

  /// True once the warmer has touched every page: the owner may write.
  bool warm() const noexcept { return warm_.load(std::memory_order_acquire); }

private:
  anonymous_mapping(void* base, std::size_t bytes) noexcept
    : base_(base), bytes_(bytes) {
    // nop
  }

  friend class page_warmer;

  void* base_;
  std::size_t bytes_;
  // Bytes unmapped from the front guard page on.
  std::size_t unmapped_ = 0;
  std::atomic<bool> warm_{false};
};

/// Hands `m`, which nobody has written yet, to the warmer thread, and
/// returns at once. Returns false when there is no warmer thread (it could
/// not be started): the caller then faults the pages in itself.
bool warm_in_background(std::shared_ptr<anonymous_mapping> m);

/// Hands the `bytes` at `data`, which `keep` keeps allocated, to the warmer
/// thread, and returns at once; their owner may use them meanwhile (the
/// touches write back what they read). Returns false when there is no
/// warmer thread.
bool warm_in_background(std::shared_ptr<void> keep, void* data, std::size_t bytes);

/// Waits until the warmer is done with every mapping handed to it so far
/// (for tests and benchmarks).
void wait_for_warm_pages();

} // namespace bus::internal
