#pragma once

// The machine's own latency noise, measured beside a scenario: a thread
// sleeps 100 us in a loop and records by how much each sleep overran.
// Whatever delays it (the scheduler, other tenants of the VM) delays the
// bus's actors too, so a latency tail near this floor is the machine's,
// and a tail far above it is ours.

#include <atomic>
#include <thread>
#include <vector>

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

  /// Stops the thread; returns the oversleep (us) of every sleep so far.
  percentiles stop();

private:
  std::atomic<bool> stopping_{false};
  std::vector<double> oversleep_us_;
  std::thread thread_;
};

/// Microseconds the first write to a fresh 4 KiB page of memory takes
/// (mapping it, the kernel zeroing it), over 16 MiB. A table that doubles
/// writes its whole new size to fresh pages at once: at 10 us a page, as
/// measured on this project's VM, a 5 MiB table stalls its owner 13 ms.
double fresh_page_us();

} // namespace bench
