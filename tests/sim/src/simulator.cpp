#include "bus/sim/simulator.hpp"

#include <array>

#include "runner.hpp"

namespace bus::sim {

namespace {

constexpr std::array<const char*, fault_count> fault_names{
  "backpressure",  "pipelining", "redelivery",     "duplicates",   "poison_once",
  "poison_always", "node_loss",  "bus_restart",    "sync_failure", "pause",
  "rebuild",       "blue_green", "early_timeouts", "model_counts", "queries",
  "snapshots",     "partitions", "tables"};

constexpr std::array<const char*, invariant_count> invariant_names{
  "fold",     "applied_twice", "out_of_order",
  "ack_lost", "ack_models",    "checkpoint_backwards",
  "lag",      "failed_state",  "mailbox",
  "liveness", "query",         "publish_order"};

} // namespace

const char* to_string(fault x) noexcept {
  return fault_names[static_cast<std::size_t>(x)];
}

std::optional<fault> fault_from_string(const std::string& text) {
  for (std::size_t i = 0; i < fault_count; ++i)
    if (text == fault_names[i])
      return static_cast<fault>(i);
  return std::nullopt;
}

const char* to_string(invariant x) noexcept {
  return invariant_names[static_cast<std::size_t>(x)];
}

std::optional<invariant> invariant_from_string(const std::string& text) {
  for (std::size_t i = 0; i < invariant_count; ++i)
    if (text == invariant_names[i])
      return static_cast<invariant>(i);
  return std::nullopt;
}

sim_result simulate(const std::vector<model_spec>& models, const sim_options& options,
                    std::uint64_t seed) {
  runner r{models, options, seed};
  return r.run();
}

sim_result shrink(const std::vector<model_spec>& models, sim_options options,
                  std::uint64_t seed) {
  options.trace = true;
  auto full = simulate(models, options, seed);
  if (!full.failure)
    return full;
  // A smaller budget replays a prefix of the same run (see runner.hpp), so
  // the first budget that breaks the same invariant is the shortest prefix.
  for (std::size_t budget = 0; budget < full.steps; ++budget) {
    options.steps = budget;
    auto shorter = simulate(models, options, seed);
    if (shorter.failure && shorter.failure->what == full.failure->what) {
      shorter.violations.assign(1, *shorter.failure);
      return shorter;
    }
  }
  return full;
}

} // namespace bus::sim
