#pragma once

// What every bus-bench scenario shares: options, timing, the report's rows,
// actor systems sized like the apps, and the open-loop latency probe.

#include <cstddef>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>

#include "bus/actors/bus_actor.hpp"
#include "bus/actors/init.hpp"
#include "bus/actors/interfaces.hpp"
#include "bus/actors/projector.hpp"
#include "bus/event.hpp"
#include "report.hpp"

namespace bench {

using clock_type = std::chrono::steady_clock;

/// The names of the scenarios, in the order they run.
inline const std::vector<std::string> scenarios{"pipeline", "recovery",  "append",
                                                "rebuild",  "memory",    "dedup",
                                                "latency",  "remote",    "node",
                                                "floor",    "snapshots", "partitions",
                                                "postgres", "growth",    "log_growth"};

struct options {
  std::size_t events = 1000000;
  std::size_t runs = 3;
  std::size_t batch_size = 1024;
  /// Where the scenarios create their SQLite stores (and the node's input).
  std::filesystem::path store_dir = std::filesystem::temp_directory_path();
  /// The scenarios to run (names from `scenarios`); empty: all.
  std::vector<std::string> only;
  /// The PostgreSQL database of the postgres scenario ("": not run). Its
  /// tables bus_events and bus_ids are dropped before each run.
  std::string pg_uri;
  /// The binaries the node scenario runs.
  std::string node_binary;
  std::string gen_binary;
  /// The Python reference node the node scenario compares bus-node with
  /// ("": not run).
  std::string reference_node;
  /// One JSON document instead of a table.
  bool json = false;
  /// Copied into the JSON document (say, the commit measured).
  std::string label;
  /// What the scheduler's idle workers do in every actor system of the run.
  bus::idle_workers idle = bus::idle_workers::wake;
  /// Replay requests a catching-up projector keeps under way (recovery and
  /// rebuild); the projectors' default unless given.
  std::uint32_t replay_ahead = bus::actors::projector_options{}.replay_ahead;
  /// Events per second of the latency rows (0: half and a quarter of the
  /// measured maximum). A fixed rate compares builds at the same load.
  std::uint64_t latency_rate = 0;

  bool runs_scenario(std::string_view name) const;
};

double seconds_since(clock_type::time_point t0);

/// `count` things in `seconds`, per second (a count of events or bytes is
/// far below 2^53, where a double stops holding integers exactly).
double per_second(std::size_t count, double seconds);

double median(std::vector<double> xs);

/// Returns the median of one field over the runs of a scenario.
template <class Run>
double median_of(const std::vector<Run>& runs, double Run::*field) {
  std::vector<double> values;
  for (auto& r : runs)
    values.push_back(r.*field);
  return median(std::move(values));
}

std::vector<std::vector<bus::event>> split(const std::vector<bus::event>& events,
                                           std::size_t batch);

/// "1.23 M/s" or "456 k/s".
std::string rate(double events_per_second);

/// Microseconds as "1.23 ms".
std::string millis(double us);

/// Sets what the idle workers of every `system_holder` made later do.
void use_idle_workers(bus::idle_workers idle);

/// An actor system sized like the apps: one worker per core; with
/// `network`, the middleman is loaded too.
struct system_holder {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  explicit system_holder(bool network = false);
};

/// Blocks until every projector's checkpoint reaches `head` (polling their
/// status from `self`).
void wait_caught_up(caf::scoped_actor& self,
                    const std::vector<bus::actors::projector_actor>& ps,
                    std::uint64_t head);

/// Bus options for open-loop measurements: the load actor never waits for
/// its answers, so the bus must let it have any number unanswered.
bus::actors::bus_options open_loop_bus();

/// Events per batch of measure_latency.
constexpr std::size_t latency_batch = 256;

/// Publishes `events` in batches of latency_batch at `per_second` from a
/// load actor (open loop: a late batch does not delay the next), each
/// awaited until every subscribed projector applied it, and returns the
/// percentiles of the time (us) from publish to that acknowledgement.
latency_split measure_latency(caf::actor_system& sys, const bus::actors::bus_actor& bus,
                              const std::vector<bus::event>& events, double per_second,
                              std::size_t warmup_events);

} // namespace bench
