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
// `stall_after`. A caught-up model with parked events is reported parked. Queries to models are routed here, so callers
// need not track projector handles across restarts. On a bus's node, the
// routing supervisor also reaches models that run on other nodes; on a
// projector node, `rebind` moves every projector to a reconnected bus.
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
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor_clock.hpp>
#include <caf/typed_response_promise.hpp>

#include "bus/actors/fwd.hpp"
#include "bus/actors/model_state.hpp"
#include "bus/actors/projector.hpp"
#include "bus/config.hpp"
#include "bus/lifecycle_store.hpp"

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
  /// A blue/green rebuild's new projector, until it replaces the live one.
  struct shadow_slot {
    model_spec spec;
    projector_actor handle;
    /// catching_up, switching, restarting or failed.
    model_state state = model_state::catching_up;
    /// Bumped on every restart so that stale restart timers are ignored.
    std::uint64_t generation = 0;
    std::uint32_t restarts = 0;
    std::deque<caf::actor_clock::time_point> recent;
    std::string last_error;
    /// Blue/green requests answered once the shadow is live.
    std::vector<caf::typed_response_promise<projector_status>> waiting;
  };

  /// What the operator asked of a model, kept across its restarts.
  enum class intent {
    run,
    /// Paused: every new projector of the model starts paused.
    pause,
  };

  struct slot {
    model_spec spec;
    intent wanted = intent::run;
    projector_actor handle;
    /// running, restarting, failed or stopped (the projector reports the
    /// rest).
    model_state state = model_state::running;
    /// Bumped on every restart so that stale restart timers are ignored.
    std::uint64_t generation = 0;
    std::uint32_t restarts = 0;
    /// Times of the restarts that are still inside the window.
    std::deque<caf::actor_clock::time_point> recent;
    std::string last_error;
    /// The last checkpoint status saw, and when it last moved: a model that
    /// cannot answer is reported with the time since its last progress.
    std::uint64_t seen_checkpoint = 0;
    caf::actor_clock::time_point progress_at;
    /// Failed retries after cool-downs since the model last caught up; the
    /// next cool-down is `cooldown * 2^cooldowns`.
    std::uint32_t cooldowns = 0;
    /// The projector running now is a half-open retry after a cool-down: it
    /// closes the circuit once caught up, and reopens it if it fails first.
    bool trial = false;
    /// Operator restarts waiting for the old projector to go down.
    std::vector<caf::typed_response_promise<projector_status>> restarting;
    /// Blue/green: the shadow under way, if any.
    std::optional<shadow_slot> shadow;
    /// Blue/green: the projector a switch replaced (paused) and its spec,
    /// kept until discarded or rolled back.
    projector_actor previous;
    model_spec previous_spec;
    /// Blue/green: a rollback is under way.
    bool rolling_back = false;
    /// Blue/green: the last generation given to a shadow of this slot, so
    /// that a timer of a discarded shadow never restarts a later one.
    std::uint64_t shadow_generations = 0;
  };

  bus_actor bus;
  supervision_policy policy;
  projector_options options;
  std::vector<slot> slots;
  /// Set on a bus's node: models not run here are looked up remotely.
  std::optional<remote_routing> routing;
  /// Where pauses are kept (projector_options::lifecycle_path), if anywhere.
  std::unique_ptr<lifecycle_store> lifecycle;

  static inline const char* name = "supervisor";
};

/// Spawns with `sys.spawn(supervisor_impl, bus, specs, policy, options)`.
supervisor_actor::behavior_type
supervisor_impl(supervisor_actor::stateful_pointer<supervisor_state> self,
                bus_actor bus, std::vector<model_spec> specs,
                supervision_policy policy, projector_options options);

/// Like supervisor_impl, and routes requests for models it does not run to
/// the nodes attached to `bus`; status includes those nodes' models (ready
/// waits for this node's own models only).
supervisor_actor::behavior_type
routing_supervisor_impl(supervisor_actor::stateful_pointer<supervisor_state> self,
                        bus_actor bus, std::vector<model_spec> specs,
                        supervision_policy policy, projector_options options,
                        remote_routing routing);

/// Returns the delay before restart number `n` (0-based) within the window:
/// initial_backoff * 2^n, at most max_backoff.
caf::timespan backoff_delay(const supervision_policy& policy, std::size_t n);

/// Returns the cool-down before retry number `n` (0-based) of a failed
/// model: cooldown * 2^n, at most max_cooldown (at least cooldown).
caf::timespan cooldown_delay(const supervision_policy& policy, std::size_t n);

} // namespace bus::actors
