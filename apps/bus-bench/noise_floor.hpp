#pragma once

// The machine's own latency noise, measured beside a scenario: a thread
// sleeps 100 us in a loop and records by how much each sleep overran.
// Whatever delays it (the scheduler, other tenants of the VM) delays the
// bus's actors too, so a latency tail near this floor is the machine's,
// and a tail far above it is ours. It runs at realtime priority where
// allowed, so that only the machine delays it. Its long oversleeps are kept
// with their time, as stalls (see stalls.hpp), and so are the bursts of
// DAMON's and the busiest other kernel threads, which it polls every
// millisecond (kernel_threads.hpp).

#include <atomic>
#include <thread>
#include <vector>

#include "kernel_threads.hpp"
#include "report.hpp"

namespace bench {

class noise_floor {
public:
  /// Starts the sleeping thread.
  noise_floor();

  /// Stops the thread if still running.
  ~noise_floor();

  noise_floor(const noise_floor&) = delete;
  noise_floor& operator=(const noise_floor&) = delete;

  /// Stops the thread; returns what it saw.
  floor_measure stop();

private:
  // Kernel threads running with short gaps between polls.
  struct kernel_burst {
    double start_s = 0;
    double last_s = 0;
    double cpu_us = 0;
  };

  void keep(const stall& x);
  void close(kernel_burst& burst);

  std::atomic<bool> stopping_{false};
  kernel_thread_watch kernel_threads_;
  std::vector<double> oversleep_us_;
  std::vector<stall> stalls_;
  double span_s_ = 0;
  floor_priority priority_ = floor_priority::normal;
  std::thread thread_;
};

/// Microseconds the first write to a fresh 4 KiB page of memory takes
/// (mapping it, the kernel zeroing it), over 16 MiB. A table that doubles
/// writes its whole new size to fresh pages at once: at 10 us a page, as
/// measured on this project's VM, a 5 MiB table stalls its owner 13 ms.
double fresh_page_us();

} // namespace bench
