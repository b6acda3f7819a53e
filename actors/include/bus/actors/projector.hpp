#pragma once

// The projector actor: owns one read model, its processed-id set and its
// checkpoint, and applies events to the model in seq order.
//
// On start it subscribes to the bus, which answers with the head seq, and
// pulls the log up to that head (catching up) while holding live pushes.
// A push that leaves a gap behind the checkpoint sends it back to pulling.
// Paused, it leaves the bus's subscriptions and applies nothing; resumed, it
// subscribes again and pulls from its checkpoint, as after a start. A
// rebuild resets the read model and its processed ids and pulls the log
// from seq 1.
// A shadow (blue/green rebuild, see supervisor.hpp) first pulls the log up
// to near the head without subscribing, so that no publisher waits for its
// catch-up, then subscribes under "<model>~shadow" (publish acks do not
// count it as the model). It neither restores nor saves snapshots until it
// is promoted to the model's live projector; demoted, a projector stops
// saving snapshots, so that two projectors never write the same model's.
// An event it has processed before is skipped and reported as skipped.
// An exception from read-model code is caught here and handled by the
// model's recovery policy: the event is tried again after a backoff (the
// rest of its batch and later deliveries wait), then parked in the model's
// dead-letter store, or the projector quits with errc::apply_failed, naming
// the event and the error, and answers every pending delivery with that
// error. Under per-key order, later events of a parked event's key park
// behind it. Nothing is printed.
//
// A model whose spec asks for sqlite storage (and that can track its
// changes) lives in a table of the models database `models_path`: after
// every batch its changed rows, the checkpoint and the processed ids are
// committed in one transaction, and a new projector loads them and pulls
// only the events after the checkpoint. A commit that fails fails the
// projector (its replacement reloads the last commit).

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <vector>
#include <memory>
#include <optional>
#include <string>

#include <caf/actor_addr.hpp>
#include <caf/duration.hpp>
#include <caf/timespan.hpp>
#include <caf/typed_response_promise.hpp>

#include "bus/actors/fwd.hpp"
#include "bus/actors/model_state.hpp"
#include "bus/latency_histogram.hpp"
#include "bus/model_table.hpp"
#include "bus/parking_lot.hpp"
#include "bus/processed_ids.hpp"
#include "bus/read_model.hpp"
#include "bus/snapshot_store.hpp"

namespace bus::actors {

/// Code run around every batch a projector applies (live or replayed), in
/// the projector's actor: the place for a transaction around a batch, or
/// for metrics. An exception thrown here fails the projector, as one thrown
/// by the read model does.
struct batch_hooks {
  /// Before the first event of a batch is applied.
  std::function<void(const read_model&, const event_batch&)> before;
  /// After the batch, with the number of events the model took.
  std::function<void(const read_model&, const event_batch&, std::size_t applied)> after;
};

/// Tuning of a projector.
struct projector_options {
  /// Events per replay request while catching up.
  std::uint32_t replay_batch = 4096;
  /// SQLite file for snapshots ("" for none). With one, a projector starts
  /// from its model's latest snapshot and pulls only the events after it.
  std::string snapshot_path;
  /// Snapshot after this many processed events (0: never).
  std::uint64_t snapshot_every = 0;
  /// Start as a blue/green shadow (see above) rather than as the live one.
  bool shadow = false;
  /// SQLite models database for models with model_storage::sqlite ("" keeps
  /// them in memory, like the others).
  std::string models_path;
  batch_hooks hooks;
  /// Timeout of every request to the bus: finite when the bus is on another
  /// node, where a lost connection may otherwise never answer.
  caf::duration bus_timeout = caf::infinite;
  /// After losing the bus (a request timed out or its node is unreachable),
  /// the projector subscribes again this long later, until it succeeds or
  /// is rebound to a reconnected bus.
  caf::timespan retry_delay = std::chrono::seconds{1};
  /// The actor that owns this projector (its supervisor, set when it spawns
  /// it): the projector monitors it and stops when it is gone, however it
  /// went (a kill skips the supervisor's own cleanup), rather than live on
  /// retrying a bus nobody will rebind it to.
  caf::actor_addr owner;
};

/// The phases of a projector. Allowed moves (enter() checks them):
///   approaching -> catching_up | rebuilding | detached | paused
///   catching_up -> running | rebuilding | detached | paused
///   rebuilding  -> running | detached | paused
///   running     -> filling_gap | catching_up | rebuilding | detached | paused
///   filling_gap -> running | catching_up | rebuilding | detached | paused
///   detached    -> catching_up | rebuilding | paused
///   paused      -> catching_up
enum class projector_phase : std::uint8_t {
  /// A shadow reading the log up to near the head before it subscribes.
  approaching,
  /// Subscribed, pulling the log up to its catch-up target; pushes are held
  /// and queries refused (they would see a past state).
  catching_up,
  /// Catching up after a reset of the model (rebuild).
  rebuilding,
  /// Caught up: applies pushes as they come.
  running,
  /// Running, but a push showed a gap (the bus withheld batches nobody
  /// awaited): it pulls the gap while holding pushes. It holds every event
  /// it was acknowledged for, so it answers queries; later events are as
  /// if still in flight.
  filling_gap,
  /// Lost its bus: waits for a retry or a rebind, then catches up.
  detached,
  /// Unsubscribed by an operator: applies nothing, answers queries from its
  /// frozen state.
  paused,
};

/// Returns true while the projector must reach its catch-up target before
/// it is ready (every phase but running and paused).
constexpr bool behind(projector_phase x) noexcept {
  return x != projector_phase::running && x != projector_phase::paused;
}

/// Returns true when a query sees every event acknowledged for the model
/// (running, filling a gap, or paused with its frozen state).
constexpr bool answers_queries(projector_phase x) noexcept {
  return !behind(x) || x == projector_phase::filling_gap;
}

struct projector_state {
  /// A push or progress note held while the projector catches up.
  struct held_delivery {
    event_batch batch;
    /// It announces seqs [covers_from, covers_to]; events of the range not in
    /// the batch are of no interest to this projector.
    std::uint64_t covers_from;
    std::uint64_t covers_to;
    caf::typed_response_promise<delivery_ack> promise;
  };

  /// A batch part-way through apply: its next event failed and is tried
  /// again after a backoff (recovery_policy); later deliveries wait.
  struct suspended_batch {
    event_batch batch;
    /// The range the batch announces ends here (see held_delivery).
    std::uint64_t covers_to = 0;
    /// Answered once the batch is done: a push (pulled batches have none).
    std::optional<caf::typed_response_promise<delivery_ack>> promise;
    bool replaying = false;
    /// Index of the event to try again, and its failed attempts so far.
    std::size_t next = 0;
    std::uint32_t attempts = 0;
    /// What the batch applied and skipped so far.
    delivery_ack ack;
  };

  bus_actor bus;
  read_model_ptr model;
  /// What to do when the model throws on an event.
  recovery_policy recovery;
  /// The model's parked events (its dead-letter store).
  parking_lot parked;
  /// The batch waiting for a retry of one of its events, if any.
  std::optional<suspended_batch> suspended;
  /// Bumped whenever a suspended batch is abandoned, so that its retry
  /// timer is dropped.
  std::uint64_t suspend_epoch = 0;
  std::unique_ptr<snapshot_store> snapshots;
  /// Checkpoint of the last snapshot taken or restored.
  std::uint64_t snapshot_seq = 0;
  /// The model's table, when it persists to one (then no snapshots).
  std::unique_ptr<model_table> table;
  processed_ids processed;
  projector_options options;
  /// Where the projector is; moved only through enter() (projector.cpp),
  /// which checks each transition against the documented ones.
  projector_phase phase = projector_phase::catching_up;
  std::uint64_t catch_up_target = 0;
  /// Replay requests under way (at most two: one is read ahead).
  std::uint32_t pulls_in_flight = 0;
  /// The seq the next replay request starts at.
  std::uint64_t next_pull = 0;
  /// Bumped by a rebuild, so that a replay answer from before it is dropped.
  std::uint64_t pull_epoch = 0;
  /// A blue/green shadow until promoted: subscribes under
  /// "<model>~shadow", saves no snapshots.
  model_role role = model_role::live;
  /// Registered with the bus (a shadow is not while approaching the head,
  /// nor is a paused projector).
  bool subscribed = false;
  /// A subscribe request is under way: the head to catch up to is not
  /// known yet.
  bool subscribing = false;
  /// A shadow's head request is under way.
  bool asking_head = false;
  std::uint32_t rebuilds = 0;
  /// Bumped by every rebind, so that a retry for an older bus is dropped.
  std::uint64_t bus_generation = 0;
  /// Resume and ready requests, answered once the catch-up is done.
  std::vector<caf::typed_response_promise<projector_status>> waiting;
  /// Timestamp of the last event processed.
  std::int64_t checkpoint_timestamp = 0;
  std::deque<held_delivery> held;
  std::uint64_t applied = 0;
  std::uint64_t skipped = 0;
  std::uint64_t ignored = 0;
  std::uint64_t replayed = 0;
  /// Publish-to-applied latency of live events (see projector_status).
  latency_histogram apply_latency;
  /// Why the projector is failing, once it is.
  caf::error failure;

  static inline const char* name = "projector";
};

/// Spawns with `sys.spawn(projector_impl, bus, spec, options)`; the
/// projector makes its read model with `spec.make()`.
projector_actor::behavior_type
projector_impl(projector_actor::stateful_pointer<projector_state> self,
               bus_actor bus, model_spec spec, projector_options options);

} // namespace bus::actors
