#pragma once

// The simulated system of one run: an actor system on CAF's test
// coordinator, the log, the bus, the local supervisor, and at most one
// remote node (a connector whose dialer hands out the current bus, or fails
// while the bus is down). It knows how to step the coordinator under the
// run's PRNG and how to inject each fault; it checks nothing (checks.hpp).

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "bus/actors/bus_actor.hpp"
#include "bus/actors/connector.hpp"
#include "bus/actors/supervisor.hpp"
#include "journal.hpp"
#include "sim_log.hpp"
#include "internal/projector_state.hpp"
#include "internal/supervisor_state.hpp"

namespace bus::sim {

/// Whether a part of the system is running.
enum class phase : std::uint8_t { up, down };

/// One projector seen through its supervisor.
struct projector_view {
  std::string model;
  actors::projector_actor handle;
  /// "live", "shadow" or "previous".
  std::string role;
  /// The supervisor slot's state ("running", "restarting", "failed", ...).
  std::string slot_state;
};

/// A request the run's session actor sends (world::request_in_order).
struct session_job {
  std::function<void(caf::event_based_actor*)> send;
};

} // namespace bus::sim

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(bus::sim::session_job)

namespace bus::sim {

struct world_config {
  actors::bus_options bus;
  actors::projector_options projector;
  supervision_policy policy;
  std::chrono::milliseconds sync_interval{0};
  std::size_t pipeline = 1;
  /// Models with model_storage::sqlite keep their tables in a file of the
  /// run (projector.models_path).
  bool tables = false;
  /// Publishes come from one session actor, in order, as a client's
  /// pipelined stream (request_in_order); otherwise each from a client of
  /// its own, in any order.
  bool one_session = false;
};

class world {
public:
  world(std::vector<model_spec> local, std::vector<model_spec> remote,
        world_config config, journal_ptr log, std::mt19937_64& rng);
  ~world();

  caf::actor_system& system() { return sys_; }
  caf::scheduler::test_coordinator& sched() { return sched_; }
  sim_log& log() { return *log_; }
  const world_config& config() const { return config_; }
  phase bus_phase() const { return bus_phase_; }
  phase node_phase() const { return node_phase_; }
  bool has_node() const { return !remote_.empty(); }

  /// Runs one job, chosen by the PRNG; false when none is pending.
  bool step();

  /// Runs jobs until none is pending (at most `limit`); false if it hit it.
  bool drain(std::size_t limit = 20000);

  /// Drains and fires timeouts until neither is left; false if the system
  /// did not come to rest within `max_timeouts`. The cool-down retry of a
  /// model failed for good comes back for ever (each retry fails again
  /// while its poison lasts): unless `fire_cooldowns`, a system whose only
  /// timers are such retries is at rest.
  bool settle(std::size_t max_timeouts = 400, bool fire_cooldowns = false);

  void kill_bus();
  void restart_bus();
  /// Crashes the node; false if it is down or still starting.
  bool kill_node();
  void start_node();

  /// The supervisor that runs `model`, or null (its node is down).
  actors::supervisor_actor supervisor_of(const std::string& model) const;

  /// Every projector alive now, by way of the supervisors' state.
  std::vector<projector_view> projectors();

  /// The name and mailbox size of every actor with messages waiting.
  std::vector<std::pair<std::string, std::size_t>> mailboxes();

  /// The most messages an actor called `name` may hold.
  std::size_t mailbox_bound(const std::string& name, std::size_t slack) const;

  /// The state of `model`'s supervisor slot ("none" if unknown now).
  std::string slot_state(const std::string& model);

  /// True when `model`'s supervisor keeps a pause for it: its operator
  /// paused it and has not resumed it since.
  bool kept_paused(const std::string& model);

  /// Reads the state of a live projector (never of a dead one).
  actors::projector_state* state_of(const actors::projector_actor& p);

  /// Sends a request from a fresh client actor; `done` gets the answer. A
  /// client gives up after a minute of simulated time: in CAF 0.17 a request
  /// held by an actor that crashes is never answered, as a real client
  /// with a timeout would see it.
  template <class T, class Handle, class... Ts>
  void request(const Handle& dest, std::function<void(caf::expected<T>)> done,
               Ts... xs) {
    auto job = asking<T>(dest, std::move(done), xs...);
    sys_.spawn([job](caf::event_based_actor* self) { job(self); });
  }

  /// Sends a request from the run's one session actor: requests reach
  /// `dest` in the order of the calls, as a client's pipelined publishes
  /// do, and the bus sees them all from one publisher.
  template <class T, class Handle, class... Ts>
  void request_in_order(const Handle& dest, std::function<void(caf::expected<T>)> done,
                        Ts... xs) {
    caf::anon_send(session_, session_job{asking<T>(dest, std::move(done), xs...)});
  }

  actors::bus_actor bus() const { return bus_; }

private:
  /// What a client does with its actor: asks `dest`, gives up after a
  /// minute of simulated time, and hands the answer to `done`.
  template <class T, class Handle, class... Ts>
  static std::function<void(caf::event_based_actor*)>
  asking(const Handle& dest, std::function<void(caf::expected<T>)> done, Ts... xs) {
    return [=](caf::event_based_actor* self) {
      self->request(caf::actor_cast<caf::actor>(dest), std::chrono::minutes{1}, xs...)
        .then([=](T& x) { done(std::move(x)); },
              [=](caf::error& err) { done(std::move(err)); });
    };
  }

  /// A fresh file for this run's snapshots, removed with the world.
  static std::string snapshot_file();
  void watch(const caf::actor_addr& who, caf::abstract_actor* ptr);
  void note_node_spawns(caf::resumable* job);
  void sweep(const actors::supervisor_actor& sup, bool crashed);
  bool dead(const caf::actor_addr& who) const;
  bool only_cooldowns();
  void note_parking(caf::resumable* job, bool before);
  /// A projector that had never run when a discard reached it: its first
  /// run restores its parked events and then discards, so what it dropped
  /// is told to its model after that run (note_parking).
  actors::projector_actor discard_at_start_;
  /// Records the state of a projector about to answer a query (journal).
  void note_query(caf::resumable* job);

  caf::actor_system_config cfg_;
  caf::actor_system sys_;
  caf::scheduler::test_coordinator& sched_;
  std::mt19937_64& rng_;
  journal_ptr journal_;
  world_config config_;
  // The snapshot files of the run, removed with the world.
  std::vector<std::string> snapshot_files_;
  std::vector<model_spec> local_;
  std::vector<model_spec> remote_;
  std::shared_ptr<sim_log> log_;
  /// The current bus's view of the log, fenced when it crashes.
  std::shared_ptr<fenced_log> bus_log_;
  actors::bus_actor bus_;
  /// Sends the publishes of a run with one_session.
  caf::actor session_;
  phase bus_phase_ = phase::up;
  std::shared_ptr<actors::bus_actor> reachable_;
  actors::supervisor_actor local_sup_;
  std::shared_ptr<actors::supervisor_actor> node_sup_;
  actors::connector_actor connector_;
  phase node_phase_ = phase::down;
  /// Every supervisor the node ever ran, and every projector they spawned.
  std::vector<actors::supervisor_actor> node_sups_;
  std::vector<actors::projector_actor> node_projectors_;
  std::shared_ptr<std::set<caf::actor_addr>> dead_;
  std::set<caf::actor_addr> watched_;
};

} // namespace bus::sim
