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

} // namespace bench
