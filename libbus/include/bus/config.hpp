#pragma once

// The framework's JSON configuration: read models (declarative), supervision,
// node limits and upcasters (declarative, see docs/versioning.md). The
// shipped default is config/node.json, compiled into the binaries so that
// they run without any file.

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include <boost/json/value.hpp>
#include <caf/expected.hpp>

#include "bus/read_model.hpp"
#include "bus/upcasters.hpp"

namespace bus {

/// How a supervisor restarts failed projectors.
struct supervision_policy {
  /// Delay before the first restart; doubled for each further one.
  std::chrono::milliseconds initial_backoff{100};
  /// Upper bound of the delay.
  std::chrono::milliseconds max_backoff{5000};
  /// Restarts allowed within `restart_window` before giving up.
  std::size_t max_restarts = 5;
  /// The window over which restarts are counted.
  std::chrono::milliseconds restart_window{60000};
  /// A model that stays down after its budget (state failed) is tried again
  /// this long later (a half-open circuit breaker); 0 never retries it.
  std::chrono::milliseconds cooldown{60000};
  /// Each failed retry doubles the cool-down, up to this.
  std::chrono::milliseconds max_cooldown{3600000};
  /// How long status waits for each projector's answer; one that does not
  /// answer in time (its apply is busy) is reported stalled. Finite, so
  /// that one stuck model never makes status hang.
  std::chrono::milliseconds status_timeout{1000};
  /// A model behind the log's head whose checkpoint has not moved for this
  /// long is reported stalled.
  std::chrono::milliseconds stall_after{30000};
};

/// Limits of the JSON-lines node.
struct node_limits {
  /// Longer input lines are reported on stderr and skipped.
  std::size_t max_line_bytes = 1 << 20;
  /// Events per publish batch.
  std::size_t batch_size = 1024;
  /// With a store: snapshot each read model after this many processed
  /// events (0: never), so that a restart replays only what came after.
  std::size_t snapshot_every = 10000;
};

/// The command side (docs/commands.md): which aggregate types a node runs.
struct command_settings {
  /// Names of the aggregate types the node runs (the node knows "order",
  /// the shop's); none: the node takes no commands.
  std::vector<std::string> aggregates;
  /// Snapshot each stream's aggregate every N events of the stream (0:
  /// never), so that loading one folds at most N events onto its snapshot.
  std::size_t snapshot_every = 100;
};

/// A whole configuration.
struct bus_config {
  std::vector<model_spec> read_models;
  supervision_policy supervision;
  node_limits node;
  /// Declarative upcasters ("upcasters"), validated as a whole; build the
  /// process's registry with upcaster_registry::make (C++ steps may join).
  std::vector<upcaster> upcasters;
  /// The "commands" section.
  command_settings commands;
};

/// Parses a configuration document. Unknown keys are rejected, so typos
/// surface as errors rather than as silently ignored settings.
caf::expected<bus_config> parse_config(const boost::json::value& doc);

/// Parses JSON text, then the configuration in it.
caf::expected<bus_config> parse_config(std::string_view text);

/// Parses one declarative read-model definition, an entry of the
/// configuration's `read_models` (a blue/green rebuild takes one at run
/// time). Errors name the offending field under `path`.
caf::expected<model_spec> parse_model_definition(const boost::json::value& v,
                                                 const std::string& path);

/// Reads and parses the configuration file at `path`.
caf::expected<bus_config> load_config(const std::string& path);

/// Returns the text of the shipped default configuration (config/node.json).
std::string_view default_config_text();

} // namespace bus
