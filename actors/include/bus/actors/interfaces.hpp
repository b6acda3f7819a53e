#pragma once

// The typed interfaces of every actor of the framework: the messages each
// one handles and what it answers. They live together because they name
// each other (a bus takes projector handles, a supervisor a bus handle);
// the headers named after each actor hold its options and how to spawn it.
// A message marked "internal" is one the actor sends itself (a timer); no
// one else has reason to send it.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/replies_to.hpp>
#include <caf/timespan.hpp>
#include <caf/typed_actor.hpp>

#include "bus/actors/atoms.hpp"
#include "bus/actors/messages.hpp"
#include "bus/event.hpp"
#include "bus/read_model.hpp"

namespace bus::actors {

/// A projector: owns one read model and feeds it from the bus.
using projector_actor = caf::typed_actor<
  // Applies a pushed batch covering seqs [covers_from, batch.last_seq()].
  caf::replies_to<deliver_atom, event_batch, std::uint64_t>::with<delivery_ack>,
  // Passes seqs [from, to], none of which is of interest to it (so that its
  // checkpoint keeps up with the head); answered like a delivery.
  caf::replies_to<progress_atom, std::uint64_t, std::uint64_t>::with<delivery_ack>,
  // Looks a key up in the read model.
  caf::replies_to<query_atom, std::string>::with<query_result>,
  // Returns the read model's whole state.
  caf::replies_to<snapshot_atom>::with<model_snapshot>,
  caf::replies_to<status_atom>::with<projector_status>,
  // Answered once the projector has caught up with the log (at once when it
  // has): from then on, events published are applied before their acks.
  caf::replies_to<ready_atom>::with<projector_status>,
  // Lifecycle: each answers with the status after the change.
  caf::replies_to<pause_atom>::with<projector_status>,
  // A new projector of a paused model: pauses, its frozen state the one at
  // that checkpoint (the model's when it was paused).
  caf::replies_to<pause_atom, std::uint64_t>::with<projector_status>,
  // A new projector of a paused partition that moved here (a shared model):
  // pauses, pulling the log up to that checkpoint first if it is behind.
  caf::replies_to<hold_atom, std::uint64_t>::with<projector_status>,
  caf::replies_to<resume_atom>::with<projector_status>,
  caf::replies_to<rebuild_atom>::with<projector_status>,
  // Switches to another bus handle (a reconnect): subscribes there and
  // pulls from the checkpoint. A null handle says the bus is lost: it is
  // disconnected until the next rebind. Untyped: bus_actor is declared below.
  caf::reacts_to<rebind_atom, caf::actor>,
  // Internal: tries bus handle generation N again after losing it.
  caf::reacts_to<retry_atom, std::uint64_t>,
  // Internal: its restore at start is done (projector_restore.cpp).
  caf::reacts_to<restored_atom>,
  // Blue/green: becomes the model's live projector (subscribes under the
  // model's name, owns its snapshots); answered once caught up.
  caf::replies_to<promote_atom>::with<projector_status>,
  // Blue/green: the same for a shadow, refused (errc::precondition_failed,
  // naming the seqs) while it holds parked or failing events up to `seq`
  // (the paused live projector's checkpoint) other than those the
  // parked_list excuses: the live one applied them, and the switch would
  // drop them from the model.
  caf::replies_to<promote_atom, parked_list, std::uint64_t>::with<projector_status>,
  // Blue/green: stops saving the model's snapshots (another takes over).
  caf::replies_to<demote_atom>::with<projector_status>,
  // Blue/green: the live projector's hand-over. Freezing holds pushes
  // unanswered and applies nothing until a promote thaws it; a pause naming
  // the projector that switched in has that one answer the held pushes
  // (handed_over_atom: per batch, the events it took), then unsubscribes.
  // Untyped: a projector_actor cannot name itself.
  caf::replies_to<freeze_atom>::with<projector_status>,
  caf::replies_to<pause_atom, caf::actor>::with<projector_status>,
  caf::replies_to<handed_over_atom,
                  std::vector<event_batch>>::with<std::vector<delivery_ack>>,
  // Dead-letter store: lists, retries or discards parked events (seq 0:
  // all of them); answered with what is parked afterwards.
  caf::replies_to<parked_atom>::with<parked_list>,
  caf::replies_to<unpark_atom, std::uint64_t>::with<parked_list>,
  caf::replies_to<drop_parked_atom, std::uint64_t>::with<parked_list>,
  // Blue/green: of a shadow's parked events, those this projector did not
  // apply either (parked or dropped here, past its checkpoint, or of a type
  // its model does not handle).
  caf::replies_to<parked_atom, parked_list>::with<parked_list>,
  // Internal: tries the suspended batch again (epoch N).
  caf::reacts_to<reapply_atom, std::uint64_t>,
  // Internal: commits the model's table, then answers the pushes it covers.
  caf::reacts_to<commit_atom>,
  // Sends the sender (its supervisor) `(applied_atom, checkpoint)` once the
  // checkpoint is at or past the seq, at once if it is already. One watch at
  // a time: a later request replaces it.
  caf::reacts_to<await_atom, std::uint64_t>>;

/// The bus: owns the log and the subscriptions.
using bus_actor = caf::typed_actor<
  // Appends events; answered once they are in the log, or also applied by
  // the subscribed projectors (see publish_wait). In the publisher's order
  // (publish_order::as_sent) unless it says otherwise.
  caf::replies_to<publish_atom, std::vector<event>, publish_wait>::with<publish_ack>,
  caf::replies_to<publish_atom, std::vector<event>, publish_wait,
                  publish_order>::with<publish_ack>,
  // Settles ids as a publish would, appending nothing (for events that are
  // acknowledged but not taken); duplicate means the log holds the event.
  caf::replies_to<resolve_atom, std::vector<event>>::with<std::vector<publish_outcome>>,
  // Registers a projector for event types; replies with the head seq, the
  // point from which the projector receives pushes.
  caf::replies_to<subscribe_atom, projector_actor, std::string,
                  std::vector<std::string>>::with<std::uint64_t>,
  // Removes a projector's subscription (pause); true if it had one.
  caf::replies_to<unsubscribe_atom, projector_actor>::with<bool>,
  // The same for the old projector of a blue/green switch: the awaited
  // batches it left unanswered are answered by its successor instead
  // (handed_over_atom), which took its place under the model's name.
  caf::replies_to<unsubscribe_atom, projector_actor, projector_actor>::with<bool>,
  // Reads up to N events from a seq.
  caf::replies_to<replay_atom, std::uint64_t, std::uint32_t>::with<event_batch>,
  // Pushes the log from a seq to the head again to every subscriber, as a
  // transport retry would; replies with the number of events re-pushed.
  // Projectors skip what they processed before.
  caf::replies_to<redeliver_atom, std::uint64_t>::with<std::uint64_t>,
  caf::replies_to<head_atom>::with<std::uint64_t>,
  caf::replies_to<status_atom>::with<bus_status>,
  // Registers a node's supervisor (a supervisor_actor) for the models it
  // serves, so that queries on the bus's node can reach them; the bus drops
  // the entry when the supervisor goes down. Replies with the head seq.
  caf::replies_to<attach_atom, std::string, caf::actor,
                  std::vector<std::string>>::with<std::uint64_t>,
  // The same, with the partitioned models the node shares with other nodes
  // that attach them: the bus assigns their partitions (assign_atom).
  caf::replies_to<attach_atom, std::string, caf::actor, std::vector<std::string>,
                  std::vector<shared_model>>::with<std::uint64_t>,
  // The nodes attached now.
  caf::replies_to<directory_atom>::with<std::vector<node_entry>>,
  // From the supervisor of the node running partition `name` of a shared
  // model: what the operator wants of it now (paused, and where, or run).
  // Answered (empty) once kept, or with why the bus's store did not keep it
  // (storage_failed; model_unavailable when its fence refused it).
  caf::reacts_to<intent_atom, std::string, partition_pause>,
  // Internal: the group-commit timer of a log with a sync interval.
  caf::reacts_to<sync_atom>>;

/// The supervisor: runs the projectors, restarts failed ones, routes queries.
using supervisor_actor = caf::typed_actor<
  // Queries model `name` for `key`.
  caf::replies_to<query_atom, std::string, std::string>::with<query_result>,
  caf::replies_to<snapshot_atom, std::string>::with<model_snapshot>,
  // Status of every projector, in config order.
  caf::replies_to<status_atom>::with<std::vector<projector_status>>,
  // Like status, answered once every running projector is ready.
  caf::replies_to<ready_atom>::with<std::vector<projector_status>>,
  // Lifecycle of model `name`, delegated to its projector.
  caf::replies_to<pause_atom, std::string>::with<projector_status>,
  caf::replies_to<resume_atom, std::string>::with<projector_status>,
  caf::replies_to<rebuild_atom, std::string>::with<projector_status>,
  // Dead-letter store of model `name` (seq 0: every parked event).
  caf::replies_to<parked_atom, std::string>::with<parked_list>,
  caf::replies_to<unpark_atom, std::string, std::uint64_t>::with<parked_list>,
  caf::replies_to<drop_parked_atom, std::string, std::uint64_t>::with<parked_list>,
  // Blue/green rebuild of model `spec.name` with the model `spec` makes: a
  // shadow catches up, then replaces the live projector. Answered with the
  // shadow's status once it has started or once it has gone live (see
  // shadow_wait).
  caf::replies_to<shadow_atom, model_spec, shadow_wait>::with<projector_status>,
  // Swaps the projector that a blue/green switch replaced back in; answered
  // once it has caught up and answers queries.
  caf::replies_to<rollback_atom, std::string>::with<projector_status>,
  // Stops the projector a switch replaced, or else a shadow not yet live.
  caf::replies_to<discard_atom, std::string>::with<projector_status>,
  // Operator restart of model `name`: stops its projector (if any) and
  // starts a fresh one with a fresh restart budget, also after it failed;
  // answered once the new projector has caught up.
  caf::replies_to<restart_atom, std::string>::with<projector_status>,
  // Internal: restart slot N of generation G once its backoff has passed.
  caf::reacts_to<restart_atom, std::uint64_t, std::uint64_t>,
  // Internal: the same for slot N's blue/green shadow.
  caf::reacts_to<restart_atom, shadow_atom, std::uint64_t, std::uint64_t>,
  // Internal: slot N's shadow, holding its switch since generation G, tries
  // its parked events again, then the switch.
  caf::reacts_to<unpark_atom, shadow_atom, std::uint64_t, std::uint64_t>,
  // Switches every projector to another bus handle (after a reconnect); a
  // null handle when the bus is lost (its models are then disconnected, and
  // status no longer asks the bus).
  caf::reacts_to<rebind_atom, bus_actor>,
  // Answered once model `name` (or, for "", every live model: no blue/green
  // shadow) has applied every seq up to `seq`, with their checkpoints; fails
  // with errc::timed_out naming the models still behind after `timeout`
  // (see await_applied.hpp).
  caf::replies_to<await_atom, std::uint64_t, std::string,
                  caf::timespan>::with<std::vector<model_checkpoint>>,
  // Internal: a projector's checkpoint reached the seq it was asked to
  // watch (see the projector's await_atom).
  caf::reacts_to<applied_atom, std::uint64_t>,
  // Internal: wait N reached its deadline.
  caf::reacts_to<expire_atom, std::uint64_t>,
  // From the bus: of model `name`, shared with other nodes, this node runs
  // the partitions listed and none of the others; the pauses are what the
  // operator wants of those the bus knows of (they move with a partition).
  caf::reacts_to<assign_atom, std::string, std::vector<std::uint32_t>,
                 std::vector<partition_pause>>>;

/// Connects a node to its bus: answers with a bus handle, or an error when
/// the bus cannot be reached now.
using dialer_actor = caf::typed_actor<caf::replies_to<dial_atom>::with<bus_actor>>;

/// Keeps a projector node attached to its bus (see connector.hpp).
using connector_actor
  = caf::typed_actor<caf::replies_to<status_atom>::with<link_status>,
                     // The node's supervisor and the bus it is attached to
                     // now; null handles before the first connection (the
                     // supervisor) or while the bus is lost (the bus).
                     caf::replies_to<handles_atom>::with<supervisor_actor, bus_actor>,
                     // Internal: dial now (sent to itself after a backoff).
                     caf::reacts_to<dial_atom, std::uint64_t>>;

} // namespace bus::actors
