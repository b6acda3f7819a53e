#pragma once

// Memory for the tables of a growing_map, faulted in before they are used.
//
// A growing_map that doubles its table moves a few entries into the new one
// with each insert, at random places of it: each first write to one of its
// pages stops the map's owner for the page fault (on this project's VMs
// some 10 us per 4 KiB page, 2 to 5 ms per transparent huge page). A model
// of 100 k keys took 14 ms of faults per doubling that way, spread over the
// batches of its drain, which set the latency tail of a run whose keys were
// still new. So a map asks its table_memory for the next table's bytes when
// the current one is half full: it allocates them from the heap and hands
// them to the process's page warmer (one thread at the lowest priority),
// which faults them in meanwhile, and the doubling takes them however far
// the warmer got (its touches write back what they read): the pages it has
// not reached fault on the owner, as without it. Nobody waits for the
// warmer; without one (it could not be started) nothing is prepared.
//
// From the heap rather than a mapping of its own: the allocator hands back
// memory that earlier tables and batches freed, already faulted in. Fresh
// mappings cost every one of their pages and an unmapping each: bus-bench's
// pipeline ran some 20 % slower on them.
//
// Tables under `prepared_from` bytes are allocated when needed. Prepared
// bytes stay allocated until the table they were meant for is. A doubled
// table starts half full, so a map that has grown keeps them from the end
// of its drain on: its tables take three times the bytes of the current
// one (bus-node's two models at 100 k users, some 30 MB more).
//
// A table_memory belongs to one map and is used by its owner's thread only.

#include <cstddef>
#include <memory>
#include <type_traits>
#include <vector>

namespace bus {

/// Allocates the tables of one map, large ones from bytes faulted in ahead.
class table_memory {
public:
  /// Tables from this size on are prepared ahead.
  static constexpr std::size_t prepared_from = 256u << 10;

  table_memory();

  table_memory(const table_memory&) = delete;
  table_memory& operator=(const table_memory&) = delete;

  ~table_memory();

  /// Returns `bytes` aligned to `align`: the prepared bytes when they are
  /// enough (and `align` at most 64), else new ones from the heap.
  void* allocate(std::size_t bytes, std::size_t align);

  /// Frees what allocate returned.
  void deallocate(void* p, std::size_t bytes, std::size_t align) noexcept;

  /// Allocates twice the bytes of the table allocated last, for the doubled
  /// table to come, and has the warmer fault them in; does nothing when
  /// that is under `prepared_from` or prepared already, or when the
  /// process has no warmer thread.
  void prepare_double();

  /// Returns how many tables came from prepared bytes (for tests and
  /// benchmarks).
  std::size_t warm_tables() const noexcept { return warm_tables_; }

  /// Returns how many large tables were allocated when needed because none
  /// was prepared, or too small.
  std::size_t cold_tables() const noexcept { return cold_tables_; }

private:
  // The next table's bytes, handed to the warmer, and their size.
  std::shared_ptr<char> next_;
  std::size_t next_bytes_ = 0;
  // The tables allocated from prepared bytes.
  std::vector<std::shared_ptr<char>> live_;
  // Bytes of the table allocated last: the current table of the map.
  std::size_t last_ = 0;
  std::size_t warm_tables_ = 0;
  std::size_t cold_tables_ = 0;
};

/// The allocator of a growing_map's tables: its table_memory's.
template <class T>
class table_allocator {
public:
  using value_type = T;
  using propagate_on_container_copy_assignment = std::true_type;
  using propagate_on_container_move_assignment = std::true_type;
  using propagate_on_container_swap = std::true_type;

  explicit table_allocator(std::shared_ptr<table_memory> memory) noexcept
    : memory_(std::move(memory)) {
    // nop
  }

  template <class U>
  table_allocator(const table_allocator<U>& other) noexcept : memory_(other.memory()) {
    // nop
  }

  T* allocate(std::size_t n) {
    return static_cast<T*>(memory_->allocate(n * sizeof(T), alignof(T)));
  }

  void deallocate(T* p, std::size_t n) noexcept {
    memory_->deallocate(p, n * sizeof(T), alignof(T));
  }

  const std::shared_ptr<table_memory>& memory() const noexcept { return memory_; }

  template <class U>
  friend bool operator==(const table_allocator& x,
                         const table_allocator<U>& y) noexcept {
    return x.memory_ == y.memory();
  }

  template <class U>
  friend bool operator!=(const table_allocator& x,
                         const table_allocator<U>& y) noexcept {
    return !(x == y);
  }

private:
  std::shared_ptr<table_memory> memory_;
};

} // namespace bus
