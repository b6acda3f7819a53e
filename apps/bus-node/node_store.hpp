#pragma once

// Where a bus node keeps its log and its read models' files: in memory,
// in a SQLite file (PATH, beside it PATH.snapshots, PATH.models and
// PATH.lifecycle) or in a PostgreSQL database it leads by lease. Opened
// once by main() before the actor system starts (single thread).

#include <memory>
#include <optional>
#include <string>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "bus/actors/projector.hpp"
#include "bus/config.hpp"
#include "bus/event_log.hpp"
#include "bus/lifecycle_store.hpp"
#include "bus/postgres_fence.hpp"
#include "node_options.hpp"
#ifdef BUS_HAS_POSTGRESQL
#  include "leadership.hpp"
#endif

namespace bus::node {

/// The log of a bus node, as --store says.
struct node_store {
  std::shared_ptr<event_log> log;
  /// The log is on a PostgreSQL server (--store postgresql://...).
  bool on_server = false;
#ifdef BUS_HAS_POSTGRESQL
  /// On a server: the lease by which this node leads the log.
  led_log lead;
#endif
};

/// Opens the log --store names (in memory without it), logging how many
/// events it holds; on a PostgreSQL server, stands by until this node leads
/// it. Fails with why the store cannot be used (exit status 2).
caf::expected<node_store> open_store(const node_options& opts);

/// Puts the read models' snapshots, tables and pauses beside the store (in
/// memory without one; in a PostgreSQL store, the pauses fenced by the
/// lease this node leads it by) and checks that those files can be used.
/// Fails with why not (exit status 2).
caf::error place_model_files(const node_options& opts, const node_store& store,
                             const bus_config& config,
                             actors::projector_options& projection);

/// Opens where the bus's directory keeps the pauses of shared models'
/// partitions: the lifecycle store at `location` (the models' one,
/// projector_options::lifecycle_path), its writes checking `fence` (the
/// models' one too), and reads them once, so that a damaged row stops the
/// start (exit status 2) instead of being dropped. None for an empty
/// `location` (no --store: kept in memory only).
caf::expected<std::shared_ptr<lifecycle_store>>
open_directory_store(const std::string& location,
                     const std::optional<postgres_fence>& fence);

} // namespace bus::node
