#pragma once

// The supervisor: spawns one projector per model spec, monitors them, and
// restarts a failed one after an exponential backoff. The new projector
// replays the bus log from its (fresh) checkpoint, so it ends in exactly the
// state it would have had without the failure. A projector that fails more
// than `max_restarts` times within `restart_window` stays down and reports
// "failed"; the others go on. Queries to models are routed here, so callers
// need not track projector handles across restarts. On a bus's node, the
// routing supervisor also reaches models that run on other nodes; on a
// projector node, `rebind` moves every projector to a reconnected bus.
//
// An exit message (shutdown) stops every projector, then the supervisor.

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor_clock.hpp>

#include "bus/actors/fwd.hpp"
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
};

struct supervisor_state {
  struct slot {
    model_spec spec;
    projector_actor handle;
    /// "running", "restarting", "failed" or "stopped".
    std::string state = "running";
    /// Bumped on every restart so that stale restart timers are ignored.
    std::uint64_t generation = 0;
    std::uint32_t restarts = 0;
    /// Times of the restarts that are still inside the window.
    std::deque<caf::actor_clock::time_point> recent;
    std::string last_error;
  };

  bus_actor bus;
  supervision_policy policy;
  projector_options options;
  std::vector<slot> slots;
  /// Set on a bus's node: models not run here are looked up remotely.
  std::optional<remote_routing> routing;

  static inline const char* name = "supervisor";
};

/// Spawns with `sys.spawn(supervisor_impl, bus, specs, policy, options)`.
supervisor_actor::behavior_type
supervisor_impl(supervisor_actor::stateful_pointer<supervisor_state> self,
                bus_actor bus, std::vector<model_spec> specs,
                supervision_policy policy, projector_options options);

/// Like supervisor_impl, and routes requests for models it does not run to
/// the nodes attached to `bus`; status and ready include those nodes' models.
supervisor_actor::behavior_type
routing_supervisor_impl(supervisor_actor::stateful_pointer<supervisor_state> self,
                        bus_actor bus, std::vector<model_spec> specs,
                        supervision_policy policy, projector_options options,
                        remote_routing routing);

/// Returns the delay before restart number `n` (0-based) within the window:
/// initial_backoff * 2^n, at most max_backoff.
caf::timespan backoff_delay(const supervision_policy& policy, std::size_t n);

} // namespace bus::actors
