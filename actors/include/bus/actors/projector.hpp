#pragma once

// The projector actor: owns one read model, its processed-id set and its
// checkpoint, and applies events to the model in seq order.
//
// On start it restores its model (snapshot or table, see below) on a thread
// of its own, answering status ("restoring") and refusing queries while
// every other request waits, then subscribes to the bus, which answers
// with the head seq, and pulls the log up to that head (catching up) while
// holding live pushes.
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
//
// Snapshots (options.snapshot_path) are written by a snapshot writer, an
// actor on a thread of its own: the projector hands each one over and goes
// on, so publishing never waits for one. A model that tracks its changes
// is snapshotted row by row: after every apply the projector records the
// rows the event changed (what write_value() writes for each key
// take_changes() names), and a snapshot is those rows, appended to the
// stored ones, so it costs what changed. Other models are snapshotted
// whole. A stopped projector (not a killed one) takes a last snapshot on
// its way out.
// An event it has processed before is skipped and reported as skipped.
// An exception from read-model code is caught here. From apply() it is
// handled by the model's recovery policy: the event is tried again after a
// backoff (the rest of its batch and later deliveries wait), then parked in
// the model's dead-letter store, or the projector quits with
// errc::apply_failed, naming the event and the error, and answers every
// pending delivery with that error. Under per-key order, later events of a
// parked event's key park behind it. From query() or a requested
// snapshot(), the caller gets errc::query_failed with the exception's text
// and the projector goes on; a periodic snapshot() that throws is skipped
// with a warning, as a failed write is. From the restore at start
// (restore(), restore_row(), expect_rows()) it counts as a restore that
// returned false: logged, and the model is rebuilt from the log; a reset()
// that then throws too fails the projector. Whatever escapes all the same
// is logged and fails the projector (its CAF exception handler). Nothing is
// printed.
//
// A model whose spec asks for sqlite storage (and that can track its
// changes) lives in a table of the models database `models_path`: its
// changed rows, the checkpoint and the processed ids are committed in one
// transaction before the batches it covers are acknowledged (one commit
// for the batches that queued up while the projector applied), and a new
// projector loads them and pulls only the events after the checkpoint. A
// commit that fails fails the projector (its replacement reloads the last
// commit).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <caf/actor_addr.hpp>
#include <caf/fwd.hpp>
#include <caf/duration.hpp>
#include <caf/timespan.hpp>

#include "bus/actors/interfaces.hpp"
#include "bus/change_recorder.hpp"
#include "bus/postgres_fence.hpp"
#include "bus/read_model.hpp"
#include "bus/restore_progress.hpp"
#include "bus/upcasters.hpp"

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

/// Who decides which partitions of a partitioned model a supervisor runs.
enum class partition_placement : std::uint8_t {
  /// It runs every partition (a bus's own node, a process on its own),
  /// unless a bus assigns them after all.
  all_here,
  /// The bus assigns them among the nodes that share the model (a projector
  /// node, docs/distributed.md, "Competing consumers"): none runs before it
  /// has, and each takes the pause the bus keeps for it.
  by_bus,
};

/// Tuning of a projector.
struct projector_options {
  /// Events per replay request while catching up.
  std::uint32_t replay_batch = 4096;
  /// Replay requests kept under way while catching up (0 counts as 1): the
  /// bus reads the next ones while the projector applies one, and a
  /// projector with answers waiting stays on its core (4 took a 1 M
  /// catch-up from about 250 ms to about 140 ms, docs/benchmarks.md).
  std::uint32_t replay_ahead = 4;
  /// SQLite file for snapshots ("" for none). With one, a projector starts
  /// from its model's latest snapshot and pulls only the events after it.
  std::string snapshot_path;
  /// Snapshot after this many processed events (0: only when a promote, a
  /// retry or a discard of parked events needs one).
  std::uint64_t snapshot_every = 0;
  /// Bytes of changed rows recorded for the next snapshot (a row per
  /// change, written right after the apply) before the projector keeps
  /// instead the keys its model holds, each once, and writes their rows
  /// when it takes the snapshot (a removed key still gets its short row at
  /// once): a model whose snapshots fall behind then holds memory bounded
  /// by its state, not by its changes (change_recorder.hpp).
  std::size_t snapshot_rows_at_most = change_recorder::default_rows_at_most;
  /// Start as a blue/green shadow (see above) rather than as the live one.
  bool shadow = false;
  /// Models database for models with model_storage::sqlite: a SQLite file
  /// or a postgresql:// URI (model_table.hpp); "" keeps them in memory,
  /// like the others.
  std::string models_path;
  /// SQLite file of the operator's lasting choices ("" keeps them in
  /// memory): the supervisor records there which models are paused, so a
  /// pause survives a restart of the projector and of the node.
  std::string lifecycle_path;
  /// With a lifecycle_path in a PostgreSQL database that a bus node leads
  /// by lease: the lease, which every write there checks (lifecycle_store),
  /// so that a leader stalled past it keeps no pause once another leads.
  std::optional<postgres_fence> lifecycle_fence;
  /// Who decides which partitions of a partitioned model run here (read by
  /// the supervisor).
  partition_placement placement = partition_placement::all_here;
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
  /// Upcasters of the process (upcasters.hpp), shared by every projector a
  /// supervisor spawns; a model_spec's own upcasters replace them. Each
  /// event is upcast as it is handed to the model (live, replayed, rebuilt,
  /// retried from the parking lot); the log keeps what was published.
  upcaster_registry_ptr upcasters;
  /// Where the projector counts its restore at start (restore_progress.hpp),
  /// shared by every projector a supervisor spawns; null: not counted.
  std::shared_ptr<restore_progress> restores;
};

/// Spawns a projector of the model `spec` makes (with `spec.make()`),
/// fed by `bus`. A supervisor (supervisor.hpp) spawns and restarts
/// projectors for you; spawn one yourself to run a model unsupervised.
projector_actor spawn_projector(caf::actor_system& sys, bus_actor bus, model_spec spec,
                                projector_options options = {});

} // namespace bus::actors
