#pragma once

// The durable log's filter of every id it holds: a blocked Bloom filter in
// front of the id index on disk. It answers "new" or "maybe held", never
// "held": an id it has never seen is new without touching the disk, and a
// "maybe" (a redelivery, or a false positive) is decided by the disk. So it
// can never make the log reject a new event as a duplicate.
//
// Each id sets 8 bits within one 64-byte block, chosen by its hash: a check
// costs one cache miss per stage. The filter grows in stages at 12 bits per
// id (1.5 bytes; about 0.5 % false positives per stage), each new one
// taking three times the ids of all before it: it never rebuilds, and a log
// of N ids checks about log4(N / 64 k) stages (5 at 10 M).
// Owned by the log; not thread-safe.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace bus::internal {

class id_filter {
public:
  /// A filter whose first stage takes `first_capacity` ids (at least 64 k).
  explicit id_filter(std::size_t first_capacity = 0);

  id_filter(id_filter&&) noexcept = default;
  id_filter& operator=(id_filter&&) noexcept = default;

  /// Records the id with hash `h`.
  void add(std::uint64_t h);

  /// Returns false if no id with hash `h` was added; true if one may have
  /// been.
  bool may_contain(std::uint64_t h) const noexcept;

  /// Starts loading the blocks `h` maps to, ahead of may_contain(h).
  void prefetch(std::uint64_t h) const noexcept;

  /// Returns how many ids were added.
  std::size_t size() const noexcept { return size_; }

  /// Returns the bytes the stages use.
  std::size_t memory_bytes() const noexcept;

  /// Returns how many stages the filter has.
  std::size_t stages() const noexcept { return stages_.size(); }

private:
  struct block {
    alignas(64) std::uint64_t words[8];
  };

  // A stage's blocks live in an anonymous mapping: the kernel zeroes each
  // page when it is first touched, so a new stage costs no memset (a stall
  // of milliseconds for the larger ones) and no memory before it is used.
  struct unmap {
    std::size_t bytes;
    void operator()(block* p) const noexcept;
  };

  struct stage {
    std::unique_ptr<block[], unmap> blocks{nullptr, unmap{0}};
    std::size_t block_count = 0;
    std::size_t capacity = 0; // ids it takes at 12 bits each
    std::size_t size = 0;
  };

  static stage make_stage(std::size_t capacity);
  static bool test(const stage& s, std::uint64_t h) noexcept;

  std::vector<stage> stages_;
  std::size_t size_ = 0;
};

} // namespace bus::internal
