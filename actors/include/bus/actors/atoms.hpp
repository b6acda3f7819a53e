#pragma once

// Every atom of the framework, in one place.

#include <caf/atom.hpp>

namespace bus::actors {

/// Publishes a batch of events to the bus.
using publish_atom = caf::atom_constant<caf::atom("bpublish")>;
/// Resolves event ids against the log without appending.
using resolve_atom = caf::atom_constant<caf::atom("bresolve")>;
/// Registers a projector with the bus.
using subscribe_atom = caf::atom_constant<caf::atom("bsubscrib")>;
/// Removes a projector's subscription.
using unsubscribe_atom = caf::atom_constant<caf::atom("bunsub")>;
/// Reads events from the bus log.
using replay_atom = caf::atom_constant<caf::atom("breplay")>;
/// Makes the bus push a range of its log again (at-least-once delivery).
using redeliver_atom = caf::atom_constant<caf::atom("bredeliver")>;
/// Asks the bus for the seq of its last event.
using head_atom = caf::atom_constant<caf::atom("bhead")>;
/// Pushes a batch of events to a projector.
using deliver_atom = caf::atom_constant<caf::atom("bdeliver")>;
/// Tells a projector that a range of seqs holds nothing of interest to it.
using progress_atom = caf::atom_constant<caf::atom("bprogress")>;
/// Queries a read model.
using query_atom = caf::atom_constant<caf::atom("bquery")>;
/// Asks for a read model's whole state.
using snapshot_atom = caf::atom_constant<caf::atom("bsnapshot")>;
/// Asks for status (checkpoints, counters, states).
using status_atom = caf::atom_constant<caf::atom("bstatus")>;
/// Pauses a projector: it holds pushes unapplied until resumed.
using pause_atom = caf::atom_constant<caf::atom("bpause")>;
/// Resumes a paused projector.
using resume_atom = caf::atom_constant<caf::atom("bresume")>;
/// Resets a read model and reprojects it from seq 1.
using rebuild_atom = caf::atom_constant<caf::atom("brebuild")>;
/// Asks to be answered once caught up with the log (ready for queries).
using ready_atom = caf::atom_constant<caf::atom("bready")>;
/// Restarts a model: an operator's request to a supervisor (with the
/// model's name), or its own timer after a backoff or cool-down.
using restart_atom = caf::atom_constant<caf::atom("brestart")>;
/// Registers a node's supervisor and the read models it serves with a bus.
using attach_atom = caf::atom_constant<caf::atom("battach")>;
/// Asks a bus for the supervisors attached to it.
using directory_atom = caf::atom_constant<caf::atom("bdirectory")>;
/// Gives a supervisor or projector a new bus handle (after a reconnect).
using rebind_atom = caf::atom_constant<caf::atom("brebind")>;
/// Tells a projector that its restore at start is done (from its helper).
using restored_atom = caf::atom_constant<caf::atom("brestored")>;
/// Tells a projector to try its bus again (sent to itself after a loss).
using retry_atom = caf::atom_constant<caf::atom("bretry")>;
/// Asks a dialer for a connection to the bus.
using dial_atom = caf::atom_constant<caf::atom("bdial")>;
/// Blue/green rebuild: starts a shadow projector with a new definition.
using shadow_atom = caf::atom_constant<caf::atom("bshadow")>;
/// Blue/green rebuild: swaps the replaced projector back in.
using rollback_atom = caf::atom_constant<caf::atom("brollback")>;
/// Blue/green rebuild: stops the replaced projector (or a shadow).
using discard_atom = caf::atom_constant<caf::atom("bdiscard")>;
/// Lists a read model's parked events.
using parked_atom = caf::atom_constant<caf::atom("bparked")>;
/// Applies a read model's parked events again (one seq, or 0 for all).
using unpark_atom = caf::atom_constant<caf::atom("bunpark")>;
/// Drops a read model's parked events for good (one seq, or 0 for all).
using drop_parked_atom = caf::atom_constant<caf::atom("bdropprk")>;
/// Internal: a projector tries a failed event again after its backoff.
using reapply_atom = caf::atom_constant<caf::atom("breapply")>;
/// Makes a projector the live one of its model (it owns the snapshots).
using promote_atom = caf::atom_constant<caf::atom("bpromote")>;
/// Makes a projector step aside: it stops saving its model's snapshots.
using demote_atom = caf::atom_constant<caf::atom("bdemote")>;
/// Blue/green: the live projector stops applying for the hand-over.
using freeze_atom = caf::atom_constant<caf::atom("bfreeze")>;
/// Blue/green: which events of the batches the projector that switched in
/// took (answers the pushes the old one held during the hand-over).
using handed_over_atom = caf::atom_constant<caf::atom("bhandedovr")>;
/// Asks a connector for its node's supervisor and the bus it is attached
/// to (for the admin endpoint of a projector node).
using handles_atom = caf::atom_constant<caf::atom("bhandles")>;
/// Hands a snapshot to a projector's snapshot writer.
using write_atom = caf::atom_constant<caf::atom("bsnapwrite")>;
/// Tells the bus that a group commit of its log is due (sent to itself).
using sync_atom = caf::atom_constant<caf::atom("bsync")>;
/// Tells a projector that a commit of its model's table is due (sent to
/// itself).
using commit_atom = caf::atom_constant<caf::atom("bcommit")>;
/// Waits until read models have applied up to a seq (await_applied.hpp).
using await_atom = caf::atom_constant<caf::atom("bawait")>;
/// A projector tells its supervisor that its checkpoint reached a seq.
using applied_atom = caf::atom_constant<caf::atom("bapplied")>;
/// Internal: a supervisor's wait for applied seqs reached its deadline.
using expire_atom = caf::atom_constant<caf::atom("bexpire")>;
/// Hands a command to the command handler (command_handler.hpp).
using command_atom = caf::atom_constant<caf::atom("bcommand")>;
/// The bus tells a node's supervisor which partitions of a model shared
/// with other nodes it runs (consumer_group.hpp).
using assign_atom = caf::atom_constant<caf::atom("bassign")>;
/// A node's supervisor tells the bus what the operator wants of a partition
/// of a shared model it runs, so that the pause moves with the partition.
using intent_atom = caf::atom_constant<caf::atom("bintent")>;
/// A new projector of a paused partition that moved: replays up to where its
/// model was paused and pauses there.
using hold_atom = caf::atom_constant<caf::atom("bhold")>;
/// Channels: puts a message into a point-to-point channel.
using enqueue_atom = caf::atom_constant<caf::atom("bchenqueue")>;
/// Channels: registers a receiver that competes for a channel's messages.
using join_atom = caf::atom_constant<caf::atom("bchjoin")>;
/// Channels: removes a receiver; what it holds unacknowledged goes to others.
using leave_atom = caf::atom_constant<caf::atom("bchleave")>;
/// Channels: hands a message to a receiver.
using take_atom = caf::atom_constant<caf::atom("bchtake")>;
/// Channels: a receiver acknowledges a message (it is never redelivered).
using ack_atom = caf::atom_constant<caf::atom("bchack")>;
/// Channels: sends a request and waits for its reply.
using request_atom = caf::atom_constant<caf::atom("bchrequest")>;
/// Channels: a receiver answers a request.
using reply_atom = caf::atom_constant<caf::atom("bchreply")>;

} // namespace bus::actors
