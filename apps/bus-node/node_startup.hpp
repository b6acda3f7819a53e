#pragma once

// The start of a bus node, after its actors are spawned and before it reads
// any input: every read model catches up with the log (with a store, this
// is where they are rebuilt from it), the awaited models of projector nodes
// attach, and the command side reads its streams' versions. main() waits
// here from its own thread (a scoped actor).

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <caf/scoped_actor.hpp>

#include "bus/actors/bus_actor.hpp"
#include "bus/actors/command_handler.hpp"
#include "bus/actors/supervisor.hpp"
#include "bus/restore_progress.hpp"

namespace bus::node {

/// What the start waits for, and how long.
struct node_startup {
  actors::bus_actor bus;
  actors::supervisor_actor supervisor;
  /// Gives up once nothing moved for this long (zero: never).
  std::chrono::seconds patience{30};
  /// The projectors' restores, as they count them.
  std::shared_ptr<restore_progress> restores;
  /// --await-models: names that must run (here or on projector nodes).
  std::vector<std::string> awaited;
  /// The command side, when the configuration names aggregates.
  actors::command_handler_actor commands;
  /// How many aggregate types it runs, for the log.
  std::size_t aggregate_types = 0;
};

/// Waits until the node may read its input, logging progress and, when it
/// gives up, why. Returns false then: the node exits 1.
bool wait_for_start(caf::scoped_actor& self, const node_startup& start);

} // namespace bus::node
