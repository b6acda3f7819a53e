#pragma once

// The supervisor: spawns one projector per model spec, monitors them, and
// restarts a failed one after an exponential backoff. The new projector
// replays the bus log from its (fresh) checkpoint, so it ends in exactly the
// state it would have had without the failure. A projector that fails more
// than `max_restarts` times within `restart_window` stays down and reports
// failed; the others go on. After `cooldown` the supervisor tries a failed
// model once more (a half-open circuit breaker): if the new projector
// catches up, the model has a fresh budget; if it fails first, it is failed
// again for twice the cool-down (at most `max_cooldown`). An operator's
// `restart` stops a model's projector and starts a fresh one, also a failed
// model's, with a fresh budget.
//
// Status is honest about stuck models: each projector's answer has a
// deadline (`status_timeout`), and one that does not answer in time (its
// apply is busy) is reported stalled, with the time since its checkpoint last
// moved; so is one behind the head whose checkpoint has not moved for
// `stall_after`. A caught-up model with parked events is reported parked.
// Queries to models are routed here, so callers need not track projector
// handles across restarts. On a bus's node, the routing supervisor also
// reaches models that run on other nodes; on a projector node, `rebind`
// moves every projector to a reconnected bus.
//
// Blue/green rebuild: a shadow projector with a new model spec reads the log
// while the live projector keeps answering queries (it neither subscribes
// until near the head nor writes the model's snapshots). Once the shadow is
// caught up, the supervisor demotes the live projector (it stops writing
// snapshots), promotes the shadow (it subscribes under the model's name and
// snapshots at once), and on the shadow's answer swaps the two in one step:
// queries go to the new projector, and restarts make the new spec. The old
// projector is kept paused until `discard`; `rollback` resumes it, swaps it
// back once it has caught up, and stops the new one. A shadow that fails is
// restarted like any projector (or reported failed) and never goes live.
//
// An exit message (shutdown) stops every projector, then the supervisor.

#include <chrono>
#include <cstddef>
#include <vector>

#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

#include "bus/actors/interfaces.hpp"
#include "bus/actors/peer_role.hpp"
#include "bus/actors/projector.hpp"
#include "bus/config.hpp"

namespace bus::actors {

/// How a supervisor on a bus's node reaches read models that run on other
/// nodes (attached to the bus): it asks the bus's directory which node
/// serves a model and forwards the request there.
struct remote_routing {
  /// Every request to another node fails after this long, with an error
  /// naming the model: a lost node never makes a caller hang.
  caf::timespan timeout = std::chrono::seconds{5};
  /// What actors on other nodes may ask of this supervisor: with any role
  /// but unrestricted, only query, snapshot, status, ready and await (the
  /// bus's node keeps its lifecycle to itself).
  peer_role peers = peer_role::unrestricted;
};

/// Spawns a supervisor that runs one projector per spec of `specs`, fed
/// by `bus`.
supervisor_actor spawn_supervisor(caf::actor_system& sys, bus_actor bus,
                                  std::vector<model_spec> specs,
                                  supervision_policy policy = {},
                                  projector_options options = {});

/// Like spawn_supervisor, and routes requests for models it does not run to
/// the nodes attached to `bus`; status includes those nodes' models (ready
/// waits for this node's own models only). For the bus's node.
supervisor_actor spawn_routing_supervisor(caf::actor_system& sys, bus_actor bus,
                                          std::vector<model_spec> specs,
                                          supervision_policy policy,
                                          projector_options options,
                                          remote_routing routing);

/// Returns the delay before restart number `n` (0-based) within the window:
/// initial_backoff * 2^n, at most max_backoff.
caf::timespan backoff_delay(const supervision_policy& policy, std::size_t n);

/// Returns the cool-down before retry number `n` (0-based) of a failed
/// model: cooldown * 2^n, at most max_cooldown (at least cooldown).
caf::timespan cooldown_delay(const supervision_policy& policy, std::size_t n);

} // namespace bus::actors
