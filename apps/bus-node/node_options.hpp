#pragma once

// bus-node's command line: every option, what each needs beside it, and
// how they override the configuration (config/node.json). main() declares
// them, parses once and checks them before anything runs (single thread).

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "bus/actors/init.hpp"
#include "bus/actors/peer_role.hpp"
#include "bus/config.hpp"
#include "bus/endpoint.hpp"
#include "bus/sqlite_log.hpp"
#include "command_line.hpp"
#include "tls_files.hpp"

namespace bus::node {

/// What bus-node's command line says (defaults where it says nothing).
struct node_options {
  std::string config_path;
  std::string store_path;
  durability policy = durability::fsync_each_batch;
  /// Zero: the configuration's node.max_line_bytes.
  std::size_t max_line = 0;
  /// Zero: the configuration's node.batch_size.
  std::size_t batch_size = 0;
  /// None: the configuration's node.snapshot_every.
  std::optional<std::size_t> snapshot_every;
  endpoint listen_at;
  bool listening = false;
  bool allow_remote = false;
  bool insecure = false;
  app::tls_files tls;
  actors::peer_role peers = actors::peer_role::projector;
  std::size_t timeout_ms = 5000;
  std::size_t startup_timeout_s = 30;
  std::size_t lease_ms = 5000;
  std::vector<std::string> await_names;
  endpoint admin_at;
  bool serving_admin = false;
  idle_workers idle = idle_workers::wake;
};

/// The command line of bus-node, its help text included.
app::command_line node_command_line();

/// Declares every option of `cli`, to be parsed into `opts`; calls once
/// parsed must follow (finish_node_options) before `opts` is complete.
void add_node_options(app::command_line& cli, node_options& opts);

/// After a successful parse: completes `opts` and refuses the combinations
/// that make no sense (an option without the one it applies to, an admin or
/// listen address exposed without --allow-remote, ...). Returns the exit
/// status (2, reported on stderr) then, nullopt when the node may start.
std::optional<int> finish_node_options(app::command_line& cli, node_options& opts);

/// Lets the options override the configuration (max_line_bytes,
/// batch_size, snapshot_every) and refuses an awaited model no node could
/// bring. Returns the exit status (2) when it refuses, nullopt otherwise.
std::optional<int> apply_node_options(const app::command_line& cli,
                                      const node_options& opts, bus_config& config);

} // namespace bus::node
