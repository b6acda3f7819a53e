#pragma once

// An arena for the payloads of events made together (bus-node's chunks of
// input): each object, key and string of those payloads is a bump of a
// pointer instead of a malloc, and its blocks are freed all at once.
// (Decoding the log's stretches into one was tried and was slower: see
// docs/benchmarks.md.)
//
// The events are then shared by readers on other threads, and copying a
// Boost.JSON value allocates from the copied value's resource (an upcaster
// copies the event it upcasts, a model may keep a copy of a field). So the
// arena is sealed before the events are shared: after seal() it hands out
// no more of its own memory, every allocation goes to the heap and is freed
// there, and it is safe from any thread. A copy still refers to the arena,
// which keeps its blocks until the last value using it is gone: a read
// model that keeps a payload or a field copies it into its own storage
// (`boost::json::value(x, boost::json::storage_ptr{})`).

#include <cstddef>
#include <memory>
#include <vector>

#include <boost/json/memory_resource.hpp>
#include <boost/json/storage_ptr.hpp>

namespace bus {

class event_arena final : public boost::json::memory_resource {
public:
  /// What the arena takes: allocations while filling, none once sealed.
  enum class phase {
    /// Allocations come from the arena's blocks; one thread at a time.
    filling,
    /// Allocations go to the heap; any thread.
    sealed,
  };

  /// Bytes of the first block; each further block doubles, up to 1 MiB.
  static constexpr std::size_t default_first_block = 16 << 10;

  /// A new arena and the storage pointer that owns it: the arena lives as
  /// long as a copy of `storage` does (a value allocated from it holds one).
  struct shared {
    boost::json::storage_ptr storage;
    event_arena* arena;
  };

  /// Makes a new arena, owned by the storage pointers to it; `self` tells
  /// the caller where it is (Boost.JSON wraps it).
  event_arena(std::size_t first_block, event_arena** self);
  ~event_arena() override;

  event_arena(const event_arena&) = delete;
  event_arena& operator=(const event_arena&) = delete;

  /// Makes a new arena, owned by the storage pointers to it.
  static shared make(std::size_t first_block = default_first_block);

  /// Stops taking allocations of its own (call before sharing the events).
  void seal() noexcept;

  /// Returns the current phase.
  phase state() const noexcept { return state_; }

  /// Returns the bytes its blocks hold.
  std::size_t block_bytes() const noexcept;

private:
  struct block {
    std::unique_ptr<unsigned char[]> data;
    std::size_t size = 0;
  };

  void* do_allocate(std::size_t n, std::size_t align) override;
  void do_deallocate(void* p, std::size_t n, std::size_t align) override;
  bool do_is_equal(const boost::json::memory_resource& other) const noexcept override;

  bool owns(const void* p) const noexcept;
  void add_block(std::size_t at_least);

  std::vector<block> blocks_;
  unsigned char* pos_ = nullptr;
  unsigned char* end_ = nullptr;
  std::size_t next_block_;
  phase state_ = phase::filling;
};

} // namespace bus
