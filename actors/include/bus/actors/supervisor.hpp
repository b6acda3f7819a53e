#pragma once

// The supervisor: spawns one projector per model spec, monitors them, and
// restarts a failed one after an exponential backoff. The new projector
// replays the bus log from its (fresh) checkpoint, so it ends in exactly the
// state it would have had without the failure. A projector that fails more
// than `max_restarts` times within `restart_window` stays down and reports
// "failed"; the others go on. Queries to models are routed here, so callers
// need not track projector handles across restarts.
//
// An exit message (shutdown) stops every projector, then the supervisor.

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include <caf/actor_clock.hpp>

#include "bus/actors/fwd.hpp"
#include "bus/actors/projector.hpp"
#include "bus/config.hpp"

namespace bus::actors {

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

  static inline const char* name = "supervisor";
};

/// Spawns with `sys.spawn(supervisor_impl, bus, specs, policy, options)`.
supervisor_actor::behavior_type
supervisor_impl(supervisor_actor::stateful_pointer<supervisor_state> self,
                bus_actor bus, std::vector<model_spec> specs,
                supervision_policy policy, projector_options options);

/// Returns the delay before restart number `n` (0-based) within the window:
/// initial_backoff * 2^n, at most max_backoff.
caf::timespan backoff_delay(const supervision_policy& policy, std::size_t n);

} // namespace bus::actors
