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
/// Tells a supervisor to restart a projector (sent to itself after backoff).
using restart_atom = caf::atom_constant<caf::atom("brestart")>;
/// Tells the bus that a group commit of its log is due (sent to itself).
using sync_atom = caf::atom_constant<caf::atom("bsync")>;

} // namespace bus::actors
