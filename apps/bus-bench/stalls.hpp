#pragma once

// Machine stalls, as the noise floor's sleeping thread sees them, and what
// they do to a latency row.
//
// A machine stops now and then for milliseconds (on this project's VM
// most long stops are DAMON's sampler holding a core; docs/benchmarks.md).
// The sleeper's p99 per sleep hides these: a 10 ms stall is one sleep among
// thousands. A batch in flight during a stall, or queued behind the backlog
// it leaves, waits for it whatever the framework does. So a latency row
// also gives the floor as a batch meets it (the stall left at a random
// instant) and the latency of the batches no stall touched.

#include <cstddef>
#include <vector>

namespace bench {

/// What stopped or slowed the machine.
enum class stall_kind {
  /// The realtime sleeper overslept by stall_threshold_us or more: the
  /// whole machine stopped.
  machine,
  /// Kernel threads ran kernel_burst_threshold_us or more of CPU, with
  /// gaps under kernel_burst_gap_us: a core taken from the process.
  kernel_thread,
};

const char* to_string(stall_kind x);

struct stall {
  /// When it began (steady_clock, seconds).
  double start_s = 0;
  /// How long it lasted, wall time.
  double length_us = 0;
  stall_kind kind = stall_kind::machine;
  /// For kernel_thread: the CPU the kernel threads ran within it.
  double cpu_us = 0;
};

constexpr double stall_threshold_us = 1000;
constexpr double kernel_burst_threshold_us = 1000;
constexpr double kernel_burst_gap_us = 3000;

/// One batch of a latency run.
struct batch_sample {
  /// When it was published (steady_clock, seconds).
  double sent_s = 0;
  double latency_us = 0;
};

/// Returns the stall time left (us) at the `p` quantile of the instants of
/// a `span_s` second run: at p = 0.99, one instant in a hundred waits
/// longer than this for the machine to run again. Counts machine stalls
/// only: during a kernel thread's burst the other core runs on.
double stall_left_at(const std::vector<stall>& stalls, double span_s, double p);

/// Returns the share of a `span_s` second run spent in machine stalls.
double stalled_share(const std::vector<stall>& stalls, double span_s);

/// Returns the latencies (us) of the batches no stall (of either kind)
/// touched: none began
/// while the batch was in flight, nor within its own length before the
/// batch was sent (at half load a stall's backlog takes about as long
/// again to drain).
std::vector<double> latencies_clear_of(const std::vector<batch_sample>& batches,
                                       const std::vector<stall>& stalls);

} // namespace bench
