#pragma once

// A point-to-point channel with request-reply on top (docs/channels.md).
//
// Point to point: each message enqueued goes to exactly one of the
// receivers that joined, and stays the channel's until that receiver acks
// it. The channel monitors its receivers: when one dies (or its node is
// lost) or leaves before acking, its messages go to the others. A delivery
// not acked within the ack timeout goes to another receiver as well. With no
// receiver, messages wait. An acked message is never delivered again.
//
// This is at-least-once delivery: a receiver that is slow rather than dead,
// or whose ack is lost with its node, may have processed a message that
// another receiver then gets too. Receivers deduplicate by channel_message
// id (a redelivery carries the same id and a higher attempt).
//
// Request-reply: a request is a message with a correlation id. A receiver
// answers it with a channel_reply (which also acks it), and the channel
// answers the requester with that reply. A request not answered within its
// timeout is answered with errc::no_reply and is not delivered again; a
// reply that comes later is dropped and counted. Replies are matched on the
// request's message id, which is never reused, and checked against its
// correlation id, so a reply can never reach another requester.
//
// The channel is an ordinary actor: publish it with the middleman and
// receivers and requesters on other nodes use it as local ones do.

#include <chrono>
#include <cstdint>
#include <string>

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/timespan.hpp>
#include <caf/typed_actor.hpp>

#include "bus/actors/atoms.hpp"
#include "bus/actors/channel_messages.hpp"

namespace bus::actors {

/// A receiver of a channel: takes messages and acks each one by sending
/// `(ack_atom, id)` to the channel, or answers a request (a message with a
/// correlation id) by sending `(reply_atom, channel_reply)`. Its own
/// interface may have more messages.
using channel_receiver_actor
  = caf::typed_actor<caf::reacts_to<take_atom, channel_message>>;

/// The channel.
using channel_actor = caf::typed_actor<
  // Enqueues a one-way message; answered with its id (or overloaded, see
  // channel_options::max_unsettled).
  caf::replies_to<enqueue_atom, std::string>::with<std::uint64_t>,
  // Registers a receiver able to hold `credit` unacked messages at a time
  // (at least 1); answered with the channel's status.
  caf::replies_to<join_atom, channel_receiver_actor,
                  std::uint32_t>::with<channel_status>,
  // Unregisters a receiver: what it holds unacked goes to the others.
  caf::replies_to<leave_atom, channel_receiver_actor>::with<channel_status>,
  // A receiver acks message `id` (the sender must be a receiver).
  caf::reacts_to<ack_atom, std::uint64_t>,
  // Sends a request with a correlation id and a body; answered with the
  // reply, or errc::no_reply once `timeout` has passed without one.
  caf::replies_to<request_atom, std::string, std::string,
                  caf::timespan>::with<channel_reply>,
  // A receiver answers a request (and so acks it).
  caf::reacts_to<reply_atom, channel_reply>,
  caf::replies_to<status_atom>::with<channel_status>,
  // Internal: delivery attempt N of message `id` reached its ack timeout.
  caf::reacts_to<expire_atom, std::uint64_t, std::uint32_t>,
  // Internal: the request of message `id` reached its timeout.
  caf::reacts_to<expire_atom, request_atom, std::uint64_t>>;

struct channel_options {
  /// A delivery not acked within this goes to another receiver; zero
  /// disables the timeout (only a receiver's death or leave redelivers).
  caf::timespan ack_timeout = caf::timespan{std::chrono::seconds{30}};
  /// The channel holds at most this many messages not yet settled (pending
  /// or in flight); beyond it, enqueue and request fail with
  /// errc::overloaded and nothing is taken. Zero: no limit.
  std::uint64_t max_unsettled = 65536;
};

/// Spawns a channel.
channel_actor spawn_channel(caf::actor_system& sys, channel_options options = {});

} // namespace bus::actors
