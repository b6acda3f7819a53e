#pragma once

// The supervisor's state (see bus/actors/supervisor.hpp), shared by its
// sources and read by tests and the simulator; never installed.

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor_clock.hpp>
#include <caf/typed_response_promise.hpp>

#include "bus/actors/model_state.hpp"
#include "bus/actors/supervisor.hpp"
#include "bus/lifecycle_store.hpp"

namespace bus::actors {

struct supervisor_state {
  // Not an aggregate: CAF would otherwise try to build it from the actor's
  // self pointer in C++20 (its first member is a handle).
  supervisor_state() = default;

  /// A blue/green rebuild's new projector, until it replaces the live one.
  struct shadow_slot {
    model_spec spec;
    projector_actor handle;
    /// catching_up, switching, parked (holding its switch: it lacks events
    /// the live projector applied), restarting or failed.
    model_state state = model_state::catching_up;
    /// Bumped on every restart and hold so that stale timers are ignored.
    std::uint64_t generation = 0;
    std::uint32_t restarts = 0;
    /// Switches held so far (their retries back off).
    std::uint32_t holds = 0;
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

  /// Where a partition of a model shared with other nodes runs (the bus
  /// assigns them, assign_atom); every other slot is `here`.
  enum class placement : std::uint8_t {
    here,
    /// Assigned elsewhere: its projector was told to stop, and its down
    /// message is still to come.
    leaving,
    /// On another node: no projector here.
    elsewhere,
    /// Assigned back here while leaving: started again once down.
    returning,
  };

  struct slot {
    model_spec spec;
    intent wanted = intent::run;
    /// Paused: the checkpoint of the frozen state its projector answered
    /// from when paused (none: it answered nothing then). A new projector
    /// answers queries only once at that checkpoint (a restore of the
    /// snapshot or table the pause kept).
    std::optional<std::uint64_t> frozen_at;
    placement where = placement::here;
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
    /// The time of the event at seen_checkpoint (0: not known), which its
    /// lag_ms is measured from while it cannot answer.
    std::int64_t seen_checkpoint_timestamp = 0;
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
    /// The seq its projector was asked to tell the checkpoint at (await),
    /// until it tells; nothing when no wait needs it.
    std::optional<std::uint64_t> watching;
  };

  /// A caller waiting until read models have applied up to a seq (see
  /// supervisor_await.hpp).
  struct applied_wait {
    std::uint64_t seq = 0;
    caf::timespan timeout{0};
    caf::typed_response_promise<std::vector<model_checkpoint>> promise;
    /// Slots of this node whose checkpoint is not known to be past `seq`.
    std::vector<std::size_t> behind;
    /// The models at or past `seq`.
    std::vector<model_checkpoint> reached;
    /// The models still behind at the deadline ("'m' at checkpoint 3
    /// (paused)"), and what other nodes answered instead of checkpoints.
    std::vector<std::string> late;
    std::vector<caf::error> errors;
    /// Answers still to come (other nodes, statuses at the deadline).
    std::size_t pending = 0;
    /// The deadline has passed: `behind` no longer moves.
    bool expired = false;
  };

  bus_actor bus;
  supervision_policy policy;
  projector_options options;
  std::vector<slot> slots;
  /// How a partitioned model's snapshots combine.
  enum class snapshot_form {
    /// One object of key -> value (the model tracks its changes): the
    /// partitions' objects merge into the model's.
    rows,
    /// Anything else: the partitions' snapshots do not combine.
    whole,
  };

  /// Whether a bus shares a partitioned model's partitions with other
  /// nodes, and whose word holds on their pauses (shared_pauses.hpp).
  enum class sharing : std::uint8_t {
    /// No bus assigned them yet, and every partition runs here
    /// (partition_placement::all_here): this node's pauses hold.
    alone,
    /// Attached, or attached again after the bus was lost, and the bus's
    /// assignment still to come: the partitions here wait for it (their
    /// projectors are not rebound meanwhile), and then take the pauses the
    /// bus keeps for them, which other nodes may have changed meanwhile.
    joining,
    /// Assigned: a partition that stays here keeps what this node did to
    /// it (it tells the bus); one that moves here takes the bus's pause.
    shared,
  };

  /// A partitioned model; each partition has a slot of its own,
  /// "<model>#<i>" (internal/partitioned.hpp).
  struct partitioning {
    std::uint32_t count = 0;
    snapshot_form form = snapshot_form::whole;
    sharing shared = sharing::alone;
  };

  /// The partitioned models by name.
  std::map<std::string, partitioning> partitioned;
  /// Set on a bus's node: models not run here are looked up remotely.
  std::optional<remote_routing> routing;
  /// Where pauses are kept (projector_options::lifecycle_path), if anywhere.
  std::unique_ptr<lifecycle_store> lifecycle;
  /// The waits for applied seqs under way, by number.
  std::map<std::uint64_t, applied_wait> applied_waits;
  std::uint64_t last_wait = 0;

  static inline const char* name = "supervisor";
};

/// The supervisor's behavior (spawn_supervisor spawns it).
supervisor_actor::behavior_type
supervisor_impl(supervisor_actor::stateful_pointer<supervisor_state> self,
                bus_actor bus, std::vector<model_spec> specs, supervision_policy policy,
                projector_options options);

/// The routing supervisor's behavior (spawn_routing_supervisor).
supervisor_actor::behavior_type
routing_supervisor_impl(supervisor_actor::stateful_pointer<supervisor_state> self,
                        bus_actor bus, std::vector<model_spec> specs,
                        supervision_policy policy, projector_options options,
                        remote_routing routing);

} // namespace bus::actors
