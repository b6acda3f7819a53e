#pragma once

// The projector's parts, each in its own source, all running in the
// projector's actor (see projector.hpp):
// - projector_apply.cpp: applying a batch, retrying and parking events its
//   model throws on, and the operator's requests on parked events;
// - projector_snapshots.cpp: snapshots, handed to the snapshot writer;
// - projector_store.cpp: model tables, and persisting a parked change;
// - projector_restore.cpp: the restore at start, off the workers;
// - projector_catch_up.cpp: catch-up from the log, and rebuilds;
// - projector_delivery.cpp: live pushes, held while behind;
// - projector_bus_link.cpp: subscribing, losing the bus, moving to another;
// - projector_answers.cpp: status, queries, the supervisor's watches;
// - projector_promote.cpp: becoming the model's live projector;
// - projector_phases.cpp: the phases, a reset of the model, a failure;
// - projector.cpp: the behavior.

#include <cstdint>
#include <functional>
#include <optional>

#include <caf/error.hpp>
#include <caf/make_message.hpp>
#include <caf/result.hpp>

#include "internal/projector_state.hpp"
#include "internal/restore_job.hpp"

namespace bus::internal {

using projector_ptr
  = actors::projector_actor::stateful_pointer<actors::projector_state>;

using suspended_batch = actors::projector_state::suspended_batch;

/// A batch to apply from its first event: a push (with its promise, once
/// one is needed) or a pulled batch (`replaying`).
inline suspended_batch
make_work(event_batch batch, std::uint64_t covers_to,
          std::optional<caf::typed_response_promise<actors::delivery_ack>> promise,
          bool replaying) {
  suspended_batch result;
  result.batch = std::move(batch);
  result.covers_to = covers_to;
  result.promise = std::move(promise);
  result.replaying = replaying;
  return result;
}

/// Moves the projector to phase `to`: the one place its phase changes (an
/// unlisted move is logged as an error and ignored).
void enter(actors::projector_state& st, actors::projector_phase to);

/// An acknowledgement that applies nothing: the events come back later from
/// the log (a paused projector answers pushes with it).
actors::delivery_ack unapplied_ack(const actors::projector_state& st);

actors::projector_status status_of(projector_ptr self);

/// Tells the watcher `(applied_atom, checkpoint)` once the checkpoint has
/// reached the watched seq; called wherever the checkpoint moves.
void tell_watcher(projector_ptr self);

/// Answers with the status now, or once the current catch-up is done.
caf::result<actors::projector_status> when_caught_up(projector_ptr self);

/// Empties the read model, its processed ids, parked events and table;
/// false (and failing) when the table cannot be cleared.
bool reset_model(projector_ptr self);

/// Answers every held push unapplied (and drops a suspended batch): their
/// events come back from the log.
void release_held(actors::projector_state& st);

/// A request to the bus failed: wait and retry when the bus is out of
/// reach, fail otherwise (it refused, e.g. its store failed).
void bus_failed(projector_ptr self, caf::error err);

/// Forgets the model's state and pulls the log from seq 1 (at once, or once
/// resumed or reconnected).
void start_rebuild(projector_ptr self);

/// Applies held pushes in order until one shows a gap or none is left.
void drain_held(projector_ptr self);

/// Reads the log from the checkpoint on until the catch-up target.
void pull(projector_ptr self);

/// Drops the replay answers still under way (they are ignored when they
/// come) and those held for a gap in front of them.
void drop_pulls(actors::projector_state& st);

/// Registers with the bus, which answers with the head to catch up to.
void subscribe(projector_ptr self);

/// Switches to `new_bus` (a reconnect): drops what the old one owes and
/// subscribes there, unless paused (then the resume does) or frozen (then
/// the thaw does).
void rebind(projector_ptr self, actors::bus_actor new_bus);

/// Answers a query from the model, or refuses while its state is a past
/// one (restoring, catching up, rebuilding, waiting for its bus); a query()
/// that throws answers errc::query_failed.
caf::result<actors::query_result> answer_query(projector_ptr self, std::string& key);

/// Answers a snapshot request with the model's whole state; a snapshot()
/// that throws answers errc::query_failed.
caf::result<actors::model_snapshot> answer_snapshot(projector_ptr self);

/// The supervisor's watch (await_atom): tells it `(applied_atom,
/// checkpoint)` once the checkpoint reaches `seq` (at once for 0).
void watch_for(projector_ptr self, std::uint64_t seq);

/// A shadow reads the log without subscribing until near the head.
void approach_head(projector_ptr self);

/// Applies a push or progress note announcing [covers_from, covers_to], or
/// holds it while behind.
caf::result<actors::delivery_ack> take_delivery(projector_ptr self, event_batch batch,
                                                std::uint64_t covers_from,
                                                std::uint64_t covers_to);

/// Tries the suspended batch again (epoch: see suspend_epoch).
void resume_suspended(projector_ptr self, std::uint64_t epoch);

/// Quits with `reason` and answers every held delivery with it, so that no
/// publisher waits for a projector that is gone.
void fail(projector_ptr self, caf::error reason);

/// How far apply_batch got.
enum class apply_outcome {
  /// Every event of the batch is processed: applied, skipped or parked.
  done,
  /// An event failed and is tried again after a backoff: the batch is in
  /// `state.suspended`, and a reapply_atom resumes it.
  suspended,
  /// The projector is failing (its model or a hook threw past its policy,
  /// or a commit failed).
  failed,
};

/// Applies `work` from `work.next` on between the batch hooks, then commits
/// the table or takes a snapshot when due. On `suspended` the batch has
/// moved to `state.suspended`.
apply_outcome apply_batch(projector_ptr self, suspended_batch& work);

/// Marks the rest of an announced range processed: the bus said that none
/// of it up to `covers_to` is of interest to this projector.
void pass_to(actors::projector_state& st, std::uint64_t covers_to,
             actors::delivery_ack& ack);

/// Drops the suspended batch (pause, rebuild, lost bus): answers its push
/// with what it applied so far; the rest comes back from the log.
void abandon_suspended(actors::projector_state& st);

/// The type of `e` as the model sees it (after upcasting); `buffer` holds
/// it when an upcaster renames the type.
std::string_view type_seen(const actors::projector_state& st, const event& e,
                           std::string& buffer);

/// What `model`'s snapshots and table are stored under: its definition()
/// plus the upcasters that can touch its events, since either changes what
/// the stored state means (a change of them rebuilds it from the log).
std::string stored_definition(const actors::projector_state& st,
                              const read_model& model);

/// Blue/green, in the live projector: stops applying for the hand-over
/// (frozen: pushes held, nothing pulled) and answers with its status, whose
/// checkpoint is what it applied. A paused projector stays paused.
actors::projector_status freeze(projector_ptr self);

/// Goes back to the phase it was frozen in: the switch was held.
void thaw(projector_ptr self);

/// Becomes the model's live projector (subscribed under its name, owning
/// its table or snapshots); answered once caught up.
caf::result<actors::projector_status> promote(projector_ptr self);

/// Unsubscribes and applies nothing until resumed. With a `successor` (the
/// projector a switch put in its place), the bus has that one answer the
/// pushes this projector held. It answers queries from the state it had
/// when paused if it was answering then, else only at `frozen_at` (the
/// checkpoint its model was paused at, for a new projector).
actors::projector_status pause(projector_ptr self, actors::projector_actor successor,
                               std::optional<std::uint64_t> frozen_at = std::nullopt);

/// A new projector of a paused partition of a shared model that moved here
/// (projector_hold.cpp): pauses at `frozen_at`, where its model was paused,
/// pulling the log up to it first (pausing) if its checkpoint is behind.
/// Past it (it got there before it was told), it is paused where it is and
/// answers no query until resumed, as a paused model restarted without its
/// frozen state.
caf::result<actors::projector_status> hold(projector_ptr self, std::uint64_t frozen_at);

/// Pausing, it has pulled the log up to its target: paused there.
void reach_pause(projector_ptr self);

/// Blue/green, in the projector that switched in: per batch the old one
/// held, which of its events this one took (from its `took` record, or as
/// far as its state tells for events before it). Ends the record.
std::vector<actors::delivery_ack> took_of(actors::projector_state& st,
                                          const std::vector<event_batch>& batches);

/// Blue/green, in the paused live projector: of `theirs` (a shadow's parked
/// events), those it did not apply either: parked or dropped here, past its
/// checkpoint, still being tried, or of a type its model does not handle.
actors::parked_list not_applied(const actors::projector_state& st,
                                const actors::parked_list& theirs);

/// Blue/green, in the shadow: refuses (errc::precondition_failed, naming the
/// seqs) while it parked, or is still trying again, an event up to
/// `through` that `excused` does not list (not applied by the live
/// projector either): a switch would drop it from the model.
caf::error lacking(const actors::projector_state& st,
                   const actors::parked_list& excused, std::uint64_t through);

/// The operator's requests on parked events (seq 0: every parked event).
actors::parked_list list_parked(projector_ptr self);
caf::result<actors::parked_list> retry_parked(projector_ptr self, std::uint64_t seq);
caf::result<actors::parked_list> discard_parked(projector_ptr self, std::uint64_t seq);

/// Starts the restore at start off the CAF workers (projector_restore.cpp):
/// the projector is restoring until its helper is done.
void start_restore(projector_ptr self, restore_source from);

/// The helper is done (restored_atom): takes what it restored and
/// subscribes, or fails with why it could not.
void finish_restore(projector_ptr self);

/// The projector stops while restoring: its helper gives up early (the
/// job keeps the model until the helper is done with it).
void abandon_restore(actors::projector_state& st);

/// Has the model record its changes when it is snapshotted periodically
/// (before a restore: every change from there on is recorded); true when
/// it does.
bool enable_tracking(actors::projector_state& st);

/// After a restore from snapshots claimed under `generation`: takes the
/// checkpoint, processed ids and parked events of `restored` (null: the
/// model starts empty) and starts the snapshot writer.
void start_snapshots(projector_ptr self, std::uint64_t generation, snapshot* restored);

/// Makes the projector the owner of the model's snapshots (a promote):
/// claims them and starts a writer; false (and failing) when it cannot.
bool own_snapshots(projector_ptr self);

/// Stops taking snapshots (demoted, or superseded by another projector).
void stop_snapshots(actors::projector_state& st);

/// Records the rows the model's last apply changed, for the next rows
/// snapshot; false (and failing) when the model threw.
bool capture_changes(projector_ptr self);

/// After the model was reset: the next rows snapshot replaces the stored
/// one.
void restart_capture(actors::projector_state& st);

/// Called once a snapshot handed to the writer is committed (no error),
/// refused because another projector owns the model (no error either), or
/// failed.
using snapshot_done = std::function<void(const caf::error&)>;

/// Hands a snapshot of the model as it is now (between batches) to the
/// writer; `then` runs once it is written. A failed write fails the
/// projector (after `then`).
void take_snapshot(projector_ptr self, snapshot_done then = {});

/// Takes a snapshot once `snapshot_every` events were processed since the
/// last one and the writer is idle. Called between batches, where state and
/// checkpoint agree.
void maybe_snapshot(projector_ptr self);

/// Commits the rows changed since the last commit, the checkpoint, the
/// processed ids and the parked events in one transaction, then answers the
/// pushes it covers; false (and failing) when the commit fails.
bool commit_table(projector_ptr self);

/// Notes that a batch changed the model kept in a table: a commit is due
/// once the projector has taken the messages already queued (commit_atom).
void table_changed(projector_ptr self);

/// Commits now if a commit is due; false (and failing) when it fails.
bool flush_table(projector_ptr self);

/// Answers the pushes held for a commit, in order: with their acks, or with
/// `err` when the commit failed.
void answer_uncommitted(actors::projector_state& st, const caf::error& err);

/// Answers a push applied: at once, or with the commit that is due.
void answer_applied(actors::projector_state& st,
                    caf::typed_response_promise<actors::delivery_ack> rp,
                    actors::delivery_ack ack);

/// Before a restore from the model's table: false (and `state.failure`
/// set) when the model cannot be kept in one.
bool can_keep_table(projector_ptr self);

/// After a restore from the model's table: owns `table` from here on, and
/// takes its checkpoint, processed ids and parked events from `contents`
/// (null: the model starts empty).
void adopt_table(projector_ptr self, std::unique_ptr<model_table> table,
                 table_contents* contents);

/// Opens the model's table and replaces it with the model's whole state
/// (a promote: the table is this projector's from here on); false (and
/// failing) when it cannot.
bool take_over_table(projector_ptr self);

/// Commits what is due and closes the table (a demote: another projector
/// takes the model over); false (and failing) when the commit fails.
bool give_up_table(projector_ptr self);

/// Just paused: keeps its frozen state durably (a table commit, or a
/// snapshot it starts) and answers with its status, so that a new
/// projector of the paused model, or of the node, restores the very state
/// it answered from.
caf::result<actors::projector_status> keep_frozen(projector_ptr self);

/// Persists a change of the parked events made without a new event (a
/// retry or discard), then answers `answer`: a table commit, or a snapshot
/// (answered once written).
caf::result<actors::parked_list> persist_now(projector_ptr self,
                                             actors::parked_list answer);

} // namespace bus::internal
