#pragma once

// bus-bench's figures: each scenario hands its results here. As text, rows
// are printed as they come (a table a person reads); with --json, nothing is
// printed until the end, when one JSON document holds every figure, so that
// runs can be compared across commits by a script.

#include <cstddef>
#include <string>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "kernel_threads.hpp"
#include "stalls.hpp"

namespace bench {

/// Percentiles of a sample, in microseconds.
struct percentiles {
  double p50 = 0;
  double p99 = 0;
  double max = 0;
  std::size_t samples = 0;
};

/// Returns the percentiles of `xs` (sorted in place); all 0 when empty.
percentiles percentiles_of(std::vector<double>& xs);

/// How the noise floor's thread was scheduled. At realtime priority it
/// preempts this process's own threads at once, so what delays it is the
/// machine's (the hypervisor, kernel code that does not yield); at normal priority
/// (realtime refused) it also waits up to a scheduler tick whenever every core runs
/// this process.
enum class floor_priority { realtime, normal };

const char* to_string(floor_priority x);

/// What the noise floor's sleeping thread saw (noise_floor.hpp).
struct floor_measure {
  floor_priority priority = floor_priority::normal;
  /// The oversleep (us) of every sleep.
  percentiles oversleep;
  /// Its oversleeps of stall_threshold_us or more and the kernel threads'
  /// bursts, in the order they ended.
  std::vector<stall> stalls;
  /// How long it measured.
  double span_s = 0;
  /// What the watched kernel threads ran meanwhile.
  std::vector<kernel_thread_watch::usage> kernel_threads;
};

/// The latency of a run, whole and without its warm-up.
struct latency_split {
  /// Every batch.
  percentiles all;
  /// The batches after the first `warmup_events` events: while those are
  /// applied the read models' tables still grow, and each doubling of a
  /// table touches fresh memory (see fresh_page_us in noise_floor.hpp); after them the
  /// models hold their whole key space, as a long-running node does.
  percentiles steady;
  std::size_t warmup_events = 0;
  /// Each batch of `steady`, with its send time.
  std::vector<batch_sample> steady_batches;
};

class report {
public:
  explicit report(bool json);

  /// Describes the run (first in the output).
  void header(std::size_t events, std::size_t batch_size, std::size_t runs,
              unsigned cores, const std::string& idle_workers,
              const std::string& label);

  /// A throughput row: the framework beside its plain loop. `id` is the
  /// row's stable key in the JSON document; `extra` adds figures to it.
  void rate(const std::string& id, const std::string& name, double bus, double loop,
            const std::string& loop_name, boost::json::object extra = {},
            const std::string& note = {});

  /// A latency row at `per_second`, beside the noise floor measured in the
  /// same run (a thread sleeping 100 us in a loop: its oversleep).
  void latency(const std::string& id, const std::string& name, double per_second,
               std::size_t batch, const latency_split& latency,
               const floor_measure& floor, double fresh_page_us);

  /// The noise floor on its own.
  void floor(const std::string& id, const std::string& name, const floor_measure& floor,
             double fresh_page_us, double seconds);

  /// Dedup memory per event: ours beside a string set.
  void memory(const std::string& id, const std::string& name, double ours,
              double theirs, const std::string& theirs_name);

  /// A scenario that could not run, and why.
  void skipped(const std::string& id, const std::string& why);

  /// Prints the JSON document (with --json); nothing otherwise.
  void finish();

private:
  bool json_;
  boost::json::object doc_;
  boost::json::array results_;
};

} // namespace bench
