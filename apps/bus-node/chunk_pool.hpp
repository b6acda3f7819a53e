#pragma once

// The vectors of requests that chunks of input fill, kept for the next
// chunks once the session is done with them. A chunk reserves room for
// thousands of requests (about 5 MB), and the allocator hands memory that
// large back to the OS once it is freed: each new chunk then faulted in
// and zeroed fresh pages, about a third of the reader thread's time on a
// VM (docs/benchmarks.md, "Chunks of input kept for reuse"). A chunk is
// released on whichever thread drops it last; the pool outlives its
// owner while chunks are out.

#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "protocol.hpp"

namespace bus::node {

class chunk_pool {
public:
  /// Keeps at most `spares` released vectors, each of capacity for at
  /// least `reserve` requests.
  chunk_pool(std::size_t spares, std::size_t reserve);

  /// Returns an empty chunk, a released one if any is spare; its vector
  /// comes back to the pool when the last copy of it is gone.
  request_chunk take();

  /// Returns the number of spare vectors.
  std::size_t spares() const;

private:
  struct shared_state {
    mutable std::mutex mtx;
    std::vector<std::unique_ptr<std::vector<request>>> spare;
    std::size_t max_spares;
  };

  std::shared_ptr<shared_state> state_;
  std::size_t reserve_;
};

} // namespace bus::node
