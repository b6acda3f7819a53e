#pragma once

// The projector actor's phases and state (see bus/actors/projector.hpp),
// shared by its sources and read by tests and the simulator; never
// installed.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <caf/typed_response_promise.hpp>

#include "bus/actors/model_state.hpp"
#include "bus/actors/projector.hpp"
#include "bus/change_recorder.hpp"
#include "bus/latency_histogram.hpp"
#include "bus/model_table.hpp"
#include "bus/parking_lot.hpp"
#include "bus/processed_ids.hpp"
#include "bus/seq_window.hpp"
#include "bus/snapshot_store.hpp"
#include "internal/snapshot_writer.hpp"

namespace bus::internal {

struct restore_job;

} // namespace bus::internal

namespace bus::actors {

/// The phases of a projector. Allowed moves (enter() checks them):
///   restoring   -> catching_up | detached
///   approaching -> catching_up | rebuilding | detached | paused
///   catching_up -> running | rebuilding | detached | paused
///   rebuilding  -> running | detached | paused
///   running     -> filling_gap | catching_up | rebuilding | detached | paused
///   filling_gap -> running | catching_up | rebuilding | detached | paused
///   detached    -> catching_up | rebuilding | paused
///   paused      -> catching_up | detached (resumed without a bus) | pausing
///   any but restoring and frozen -> pausing -> paused | catching_up |
///                                   detached (resumed)
///   any but paused, pausing -> frozen -> the phase it was frozen in | paused
enum class projector_phase : std::uint8_t {
  /// Loading its snapshot or table off the CAF workers (restore_job.hpp):
  /// not subscribed; answers status and refuses queries, and keeps every
  /// other request until it is done. Only a new projector starts here.
  restoring,
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
  /// Lost its bus (a request failed, or it was rebound to no bus): waits
  /// for a retry or a rebind, then catches up.
  detached,
  /// Unsubscribed by an operator: applies nothing, answers queries from its
  /// frozen state.
  paused,
  /// Paused, but behind the checkpoint its model was paused at (frozen_at):
  /// a partition of a shared model that moved to this node while paused.
  /// Unsubscribed, it pulls the log up to that checkpoint, then is paused
  /// there; queries are refused meanwhile, status says paused.
  pausing,
  /// The live projector during a blue/green hand-over: subscribed, but it
  /// holds pushes unanswered and pulls nothing, so that what it applied
  /// stays fixed while the switch is checked. Thawed by a promote back
  /// (the switch is held), or paused once the switch is done; its held
  /// pushes are then answered by the projector that switched in.
  frozen,
};

/// Returns true while the projector must reach its catch-up target before
/// it is ready (every phase but running, paused and frozen).
constexpr bool behind(projector_phase x) noexcept {
  return x != projector_phase::running && x != projector_phase::paused
         && x != projector_phase::frozen;
}

/// Returns true while the projector restores: its model is not its own to
/// touch, and every request but status and query waits (caf::skip).
constexpr bool restoring(projector_phase x) noexcept {
  return x == projector_phase::restoring;
}

/// Returns true when a query sees every event acknowledged for the model
/// (running, filling a gap, or paused with its frozen state).
constexpr bool answers_queries(projector_phase x) noexcept {
  return !behind(x) || x == projector_phase::filling_gap;
}

/// What a projector's next snapshot holds (projector_snapshots.cpp).
enum class snapshot_basis : std::uint8_t {
  /// None is taken: no snapshot file, a shadow, or demoted.
  off,
  /// The model's whole state, snapshot(): it does not track its changes
  /// (or snapshots are taken only on request, snapshot_every 0).
  whole,
  /// Every row, from snapshot(), replacing what is stored: a model that
  /// tracks its changes, restored from a whole snapshot or just promoted.
  /// Then deltas.
  full_rows,
  /// The rows recorded since the model was empty, replacing what is stored.
  /// Then deltas.
  rows_since_empty,
  /// The rows recorded since the last snapshot, appended to the stored ones.
  delta,
};

/// Whether a model's table holds what the projector applied
/// (projector_store.cpp). Batches applied while a commit is due join it: one
/// transaction then covers every push that queued up meanwhile, and their
/// acks wait for it, so that an ack still means "committed".
enum class table_sync : std::uint8_t {
  /// Nothing applied since the last commit.
  committed,
  /// Batches applied since; a commit_atom to itself is on its way.
  commit_due,
};

struct projector_state {
  // Not an aggregate: CAF would otherwise try to build it from the actor's
  // self pointer in C++20.
  projector_state() = default;
  /// Tells a restore still under way that nobody waits for it: a kill runs
  /// no handler, but CAF destroys the state of every actor that quits.
  ~projector_state();
  projector_state(const projector_state&) = delete;
  projector_state& operator=(const projector_state&) = delete;

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
  /// Null while restoring: the restore job holds it then.
  read_model_ptr model;
  /// The model's name, also while it is restoring.
  std::string model_name;
  /// The restore under way (phase restoring), shared with its helper.
  std::shared_ptr<bus::internal::restore_job> restore;
  /// Rows its restore at start took (rows snapshots and tables).
  std::uint64_t restored_rows = 0;
  /// What to do when the model throws on an event.
  recovery_policy recovery;
  /// The upcasters its events pass through (the spec's or the process's);
  /// null for none.
  upcaster_registry_ptr upcasters;
  /// The model's parked events (its dead-letter store).
  parking_lot parked;
  /// Seqs an operator dropped from `parked` since this projector started
  /// (or rebuilt): never applied. A blue/green switch asks.
  std::set<std::uint64_t> dropped;
  /// A blue/green shadow, from its start until the projector it replaced
  /// has handed over: the seqs its model took. Publishes that waited on the
  /// old projector during the switch are answered from it.
  std::optional<seq_window> took;
  /// The batch waiting for a retry of one of its events, if any.
  std::optional<suspended_batch> suspended;
  /// Bumped whenever a suspended batch is abandoned, so that its retry
  /// timer is dropped.
  std::uint64_t suspend_epoch = 0;
  /// What the next snapshot holds; `off` without a snapshot writer.
  snapshot_basis snapshots = snapshot_basis::off;
  /// Writes the snapshots, under the generation the model was claimed with.
  snapshot_writer_actor snapshot_writer;
  /// Shared with the writer: set when this projector stops with it, so that
  /// a compaction under way gives up rather than hold up the shutdown.
  stop_flag writer_stopping;
  std::uint64_t snapshot_generation = 0;
  /// Snapshots handed to the writer and not answered yet.
  std::uint32_t snapshots_in_flight = 0;
  /// What waits for a snapshot to be written (a retry or discard of parked
  /// events, a promote), by the number of the write: answered with the
  /// failure if the projector fails first.
  std::map<std::uint64_t, std::function<void(const caf::error&)>> snapshot_waiting;
  std::uint64_t snapshot_writes = 0;
  /// The model records its changes for rows snapshots (track_changes()):
  /// they are taken after every apply.
  bool model_tracks_changes = false;
  /// The changes since the last snapshot (rows, or past a bound the keys
  /// changed), while the basis is rows_since_empty or delta.
  change_recorder changes;
  /// The buffer of the rows written last, handed back by the writer: the
  /// next snapshot's rows go there, into memory already mapped.
  std::string spare_rows;
  /// Reused by every apply: the keys the model changed.
  std::vector<std::string> changed_keys;
  /// Checkpoint of the last snapshot taken or restored.
  std::uint64_t snapshot_seq = 0;
  /// Where the model's state lives: `sqlite` when it is kept in a table
  /// (its spec asks for one and there is a models database), then no
  /// snapshots are taken.
  model_storage storage = model_storage::memory;
  /// The model's table while this projector owns it: from its start, or
  /// from its promote (a shadow switching in) until a demote.
  std::unique_ptr<model_table> table;
  /// Whether the table holds every batch applied (see table_sync).
  table_sync table_state = table_sync::committed;
  /// Pushes applied since the last commit, in order: answered once a
  /// commit covers them.
  std::vector<std::pair<caf::typed_response_promise<delivery_ack>, delivery_ack>>
    uncommitted;
  processed_ids processed;
  projector_options options;
  /// Where the projector is; moved only through enter() (projector_phases.cpp),
  /// which checks each transition against the documented ones.
  projector_phase phase = projector_phase::catching_up;
  /// The phase a frozen projector goes back to when thawed.
  projector_phase thaw_to = projector_phase::running;
  std::uint64_t catch_up_target = 0;
  /// While paused (or pausing): the checkpoint of its frozen state, the one it answered
  /// queries from when paused (or, for a new projector, the one its model
  /// was paused at). It answers queries only while its checkpoint is that
  /// one: reset by a rebuild, paused part of the way through a catch-up, or
  /// started without the state it was paused with, it would answer from a
  /// state nobody was shown.
  std::optional<std::uint64_t> frozen_at;
  /// Replay requests under way: up to options.replay_ahead, plus those
  /// asking again for the rest of a short answer (see pull_gaps).
  std::uint32_t pulls_in_flight = 0;
  /// The seq the next replay request starts at: past the ranges of those
  /// under way.
  std::uint64_t next_pull = 0;
  /// Bumped by a rebuild, so that a replay answer from before it is dropped.
  std::uint64_t pull_epoch = 0;
  /// The starts of the replay requests under way that ask again for the
  /// rest of a short answer, in order.
  std::vector<std::uint64_t> pull_gaps;
  /// Answers to requests starting past a gap in pull_gaps: they wait for
  /// it, in the order of their requests.
  std::vector<std::pair<std::uint64_t, event_batch>> pulled_early;
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
  /// The seq its supervisor waits for (0: none): once the checkpoint is at
  /// or past it, `watcher` is told (tell_watcher), and the watch ends.
  std::uint64_t watch = 0;
  supervisor_actor watcher;

  static inline const char* name = "projector";
};

/// The projector's behavior (spawn_projector spawns it); it makes its read
/// model with `spec.make()`.
projector_actor::behavior_type
projector_impl(projector_actor::stateful_pointer<projector_state> self, bus_actor bus,
               model_spec spec, projector_options options);

} // namespace bus::actors
