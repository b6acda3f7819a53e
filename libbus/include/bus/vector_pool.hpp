#pragma once

// Vectors of reserved capacity handed out as shared chunks and kept, once
// their last copy is gone, for the next chunk to fill. A chunk of events
// or requests is hundreds of kilobytes to megabytes; the allocator hands
// memory that large back to the OS once it is freed, and each page taken
// again costs a fault and its zeroing (about 10 us per 4 KiB on a VM: a
// third of bus-node's reader thread, docs/benchmarks.md, "Chunks of input
// kept for reuse"). A chunk is released on whichever thread drops it
// last, so the spares sit behind a mutex (taken once per chunk); the pool
// may go before its chunks do.

#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

namespace bus {

template <class T>
class vector_pool {
public:
  using chunk = std::shared_ptr<std::vector<T>>;

  /// Keeps at most `spares` released vectors; each has room for at least
  /// `reserve` elements.
  vector_pool(std::size_t spares, std::size_t reserve)
    : state_(std::make_shared<spare_shelf>()), reserve_(reserve) {
    state_->max_spares = spares;
  }

  /// Returns an empty vector with room for `at_least` elements (at least
  /// the pool's reserve), a released one when a spare is large enough. It
  /// comes back, emptied, when its last copy is gone.
  chunk take(std::size_t at_least = 0) {
    std::unique_ptr<std::vector<T>> vec;
    {
      std::lock_guard<std::mutex> guard{state_->mtx};
      auto& spare = state_->spare;
      if (!spare.empty() && spare.back()->capacity() >= at_least) {
        vec = std::move(spare.back());
        spare.pop_back();
      }
    }
    if (!vec) {
      vec = std::make_unique<std::vector<T>>();
      vec->reserve(at_least > reserve_ ? at_least : reserve_);
    }
    return chunk{vec.release(), [st = state_](std::vector<T>* done) {
                   std::unique_ptr<std::vector<T>> owned{done};
                   owned->clear(); // its elements go, its memory stays
                   std::lock_guard<std::mutex> guard{st->mtx};
                   if (st->spare.size() < st->max_spares)
                     st->spare.push_back(std::move(owned));
                 }};
  }

  /// Returns the number of spare vectors.
  std::size_t spares() const {
    std::lock_guard<std::mutex> guard{state_->mtx};
    return state_->spare.size();
  }

private:
  struct spare_shelf {
    mutable std::mutex mtx;
    std::vector<std::unique_ptr<std::vector<T>>> spare;
    std::size_t max_spares = 0;
  };

  std::shared_ptr<spare_shelf> state_;
  std::size_t reserve_;
};

} // namespace bus
