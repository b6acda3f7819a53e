#pragma once

// The kernel's own threads as a source of latency. On this project's VM,
// kdamond.0 (DAMON's sampler, which pages cold memory out) wakes every
// ~0.54 s and, while the benchmark touches hundreds of MB, holds one of the
// two cores for 5-15 ms of kernel code; the kernel is built without
// preemption, so nothing on that core runs meanwhile. The noise floor's
// sleeper sees it only when it happens to share that core, yet every actor
// there waits. So the noise floor watches every kdamond and the busiest
// other kernel threads, and keeps their bursts as stalls of their own kind
// (see stalls.hpp).

#include <cstddef>
#include <string>
#include <vector>

namespace bench {

class kernel_thread_watch {
public:
  /// What one watched thread ran while watched.
  struct usage {
    std::string name;
    double ran_us = 0;
  };

  /// Watches every kdamond (DAMON's samplers) and the `n` other kernel
  /// threads that used the most CPU since boot (none where /proc cannot be
  /// read).
  explicit kernel_thread_watch(std::size_t n);

  /// Returns the microseconds the watched threads ran since the last call
  /// (since construction at the first). Allocates nothing.
  double poll();

  /// Returns each watched thread's total since construction.
  std::vector<usage> usages() const;

private:
  struct watched {
    std::string name;
    std::string schedstat_path;
    unsigned long long ran_ns = 0;
    unsigned long long first_ns = 0;
  };

  std::vector<watched> threads_;
};

/// Reads the first number of a /proc file (e.g. a thread's CPU time in ns
/// from its schedstat) without allocating; 0 when it cannot.
unsigned long long read_first_number(const char* path);

} // namespace bench
