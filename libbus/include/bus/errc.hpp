#pragma once

// Error codes of the framework. They travel as caf::error values with the
// category atom "bus", so every actor, app and node reports the same codes.
// libbus uses only caf::error and caf::expected from CAF, nothing else.

#include <cstdint>
#include <iosfwd>
#include <string>

#include <caf/atom.hpp>
#include <caf/error.hpp>

namespace bus {

/// Everything that can go wrong inside the framework.
enum class errc : std::uint8_t {
  /// Not an error.
  none = 0,
  /// A configuration document is missing a field or has one of the wrong type.
  invalid_config,
  /// An event lacks a field it needs (for example an id and a payload.id).
  invalid_event,
  /// A query named a read model that does not exist.
  no_such_model,
  /// A query named a key that the read model does not hold.
  no_such_key,
  /// The read model exists but its projector is down (restarting or failed).
  model_unavailable,
  /// User read-model code threw where its projector cannot go on (applying
  /// an event, making the model, resetting it): the projector quits with it.
  apply_failed,
  /// A log read asked for a sequence number outside the log.
  out_of_range,
  /// The durable store failed (cannot open, disk full, I/O error, corrupt
  /// data); nothing of the failed operation was acknowledged.
  storage_failed,
  /// Another node cannot be reached, or is not what was expected there (no
  /// bus published at the address).
  unreachable,
  /// A lifecycle request does not fit the model's current state (a
  /// blue/green rebuild is already under way, nothing to roll back or to
  /// discard).
  precondition_failed,
  /// A publisher has as many publishes unanswered as the bus allows it: it
  /// must wait for an acknowledgement before publishing more. Nothing of the
  /// refused publish was appended.
  overloaded,
  /// A retry or discard named a seq that is not parked in the model's
  /// dead-letter store (never parked, or retried or discarded since).
  not_parked,
  /// A request from another node that its role does not allow (see
  /// bus::actors::peer_role): publishing from a projector node, or any
  /// lifecycle request to the bus's node.
  forbidden,
  /// A wait did not complete within its timeout (await_applied: read models
  /// still behind the awaited seq; the text names them and their
  /// checkpoints).
  timed_out,
  /// A request sent through a channel got no reply within its timeout (see
  /// bus::actors::channel_actor); a reply that comes later is dropped.
  no_reply,
  /// A command expected its stream at one version and found it at another
  /// (optimistic concurrency: someone else wrote the stream first). Nothing
  /// of the command was appended; the text names the stream and both
  /// versions.
  version_conflict,
  /// An aggregate refused a command (its validation failed: paying a
  /// cancelled order, a wrong amount). Nothing was appended.
  command_rejected,
  /// No aggregate type handles the command's name, or the command went to
  /// a stream of another aggregate type.
  unknown_command,
  /// User read-model code threw while answering a request about its state
  /// (query(), or snapshot() for a snapshot request). The projector goes
  /// on; the text names the model and carries the exception's message.
  query_failed,
};

/// Returns the name of `x`, e.g. "no_such_key".
std::string to_string(errc x);

/// Prints the name of `x`.
std::ostream& operator<<(std::ostream& out, errc x);

/// The category atom under which `errc` values travel in caf::error.
using errc_category = caf::atom_constant<caf::atom("bus")>;

/// Builds a caf::error of category "bus" (also lets caf::error take an errc).
caf::error make_error(errc x);

/// Builds a caf::error of category "bus" carrying a context message.
caf::error make_error(errc x, std::string context);

/// Returns the errc of `x`, or errc::none when `x` is of another category.
errc code_of(const caf::error& x);

/// Returns the context text of `x` ("" when it has none).
std::string context_of(const caf::error& x);

} // namespace bus
