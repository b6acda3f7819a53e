#pragma once

// The node's session actor: takes chunks of parsed requests in input order,
// turns runs of events into publish batches, and writes every reply to
// stdout in request order.
//
// Consecutive publishes are pipelined (the bus and each projector process
// them in order). A query waits until every earlier publish is acknowledged,
// and later requests wait for the query, so a query sees exactly the events
// sent before it.

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/typed_actor.hpp>

#include "bus/actors/command_handler.hpp"
#include "bus/actors/interfaces.hpp"
#include "leadership.hpp"
#include "node_subscription.hpp"
#include "protocol.hpp"

namespace bus::node {

using chunk_atom = caf::atom_constant<caf::atom("nchunk")>;
using chunk_done_atom = caf::atom_constant<caf::atom("nchunkdone")>;
/// Tells the session that its node lost the lead of the log, and why.
using lost_lead_atom = caf::atom_constant<caf::atom("nlostlead")>;

/// Takes a chunk and the actor to tell `chunk_done_atom` once every reply of
/// the chunk is written.
using session_actor
  = caf::typed_actor<caf::reacts_to<chunk_atom, request_chunk, caf::actor>,
                     caf::reacts_to<lost_lead_atom, std::string>>;

struct session_options {
  /// Read model names in config order (the order of updated_models), then
  /// the awaited models of other nodes (--await-models) in the order given;
  /// other nodes' models not named are added after them as they first take
  /// an event (by name among those of one batch).
  std::vector<std::string> models;
  std::size_t batch_size = 1024;
  /// Publish batches under way at once; at most the bus's
  /// max_publishes_in_flight, or the bus refuses the excess. The node
  /// takes publishes_in_flight_for(batch_size).
  std::size_t max_publishes_in_flight = 48;
  /// Where replies go (stdout in the node).
  std::FILE* out = stdout;
  /// Runs the commands; null when the node runs no aggregates.
  actors::command_handler_actor commands;
  /// On a log several bus nodes share (PostgreSQL): until when this node
  /// is confirmed as the leader. Null when it leads alone.
  lead_confirmed lead;
};

struct session_state {
  struct slot {
    /// The reply when it has a text of its own (control requests, errors).
    std::string text;
    /// Otherwise the reply is `shared[offset, offset + size)`: the replies
    /// of a publish batch are rendered into one string, not one each.
    std::shared_ptr<const std::string> shared;
    std::size_t offset = 0;
    std::size_t size = 0;
    bool ready = false;
    /// Tell this actor once this slot is written (last slot of a chunk).
    caf::actor notify;

    std::string_view reply() const noexcept {
      return shared ? std::string_view{*shared}.substr(offset, size)
                    : std::string_view{text};
    }
  };

  /// A request waiting for dispatch; it lives in its chunk, which stays
  /// alive until the chunk's last reply is written.
  struct pending {
    request* req;
    std::size_t slot;
  };

  actors::bus_actor bus;
  actors::supervisor_actor supervisor;
  session_options options;
  std::unordered_map<std::string, std::size_t> model_index;
  /// options.models as JSON string literals, for the replies.
  std::vector<std::string> quoted_models;
  /// Replies written together (kept for its capacity).
  std::string out;
  /// Chunks written by the current flush, told once the write is done.
  std::vector<caf::actor> done_notices;

  /// Replies not yet written; front() is slot number `first_slot`.
  std::deque<slot> slots;
  std::size_t first_slot = 0;
  /// Requests not yet dispatched, in order.
  std::deque<pending> queue;
  /// Chunks with replies still to write, oldest first.
  std::deque<request_chunk> chunks;
  std::size_t publishes_in_flight = 0;
  /// A query, status or lifecycle request is under way: later requests wait.
  bool control_in_flight = false;

  /// The event types the node takes (logs and hands to its read models).
  node_subscription subscription;

  /// Why the node no longer leads its log ("" while it does, or may).
  std::string lost_lead;

  static inline const char* name = "session";
};

/// Publish batches a session keeps under way for batches of at most
/// `batch_size` events: 48 at the default size (1024) and above, as many
/// as the reader's chunks in flight hold, and more: a publish stays under
/// way through its group commit and the read models' work. Smaller batches
/// get more, up to 256, so that about as many events are under way: a
/// group commit syncs the publishes waiting for it, and 48 batches of one
/// event each left it syncing a dozen events at a time.
std::size_t publishes_in_flight_for(std::size_t batch_size) noexcept;

session_actor::behavior_type
session_impl(session_actor::stateful_pointer<session_state> self, actors::bus_actor bus,
             actors::supervisor_actor supervisor, session_options options);

} // namespace bus::node

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(bus::node::request_chunk)
