#pragma once

// The message types of point-to-point channels (channel.hpp), with CAF
// inspectors so that receivers and requesters can live on other nodes.

#include <cstdint>
#include <string>

#include <caf/meta/type_name.hpp>

namespace bus::actors {

/// A message as a channel hands it to one receiver.
struct channel_message {
  /// Given by the channel, never reused: a redelivery carries the same id,
  /// so receivers deduplicate by it.
  std::uint64_t id = 0;
  /// 1 for the first delivery; more means it was delivered before to a
  /// receiver that died, left or did not ack in time.
  std::uint32_t attempt = 0;
  /// The requester's correlation id; empty for a plain (one-way) message.
  std::string correlation_id;
  std::string body;
};

/// A receiver's answer to a request, routed back to its requester.
struct channel_reply {
  /// The id of the request's channel_message.
  std::uint64_t request = 0;
  /// The request's correlation id: a reply naming another one is dropped.
  std::string correlation_id;
  std::string body;
};

/// Counters and sizes of a channel.
struct channel_status {
  std::uint64_t receivers = 0;
  std::uint64_t pending = 0;
  std::uint64_t in_flight = 0;
  std::uint64_t acked = 0;
  /// Deliveries after the first of a message (receiver lost or too slow).
  std::uint64_t redelivered = 0;
  /// Deliveries whose ack did not come within the ack timeout.
  std::uint64_t ack_timeouts = 0;
  /// Requests waiting for their replies.
  std::uint64_t requests_waiting = 0;
  /// Requests answered with errc::no_reply.
  std::uint64_t expired_requests = 0;
  /// Replies dropped: their request had expired or was answered already,
  /// or they named another correlation id.
  std::uint64_t dropped_replies = 0;
  /// Acks from actors that are not receivers of the channel (ignored).
  std::uint64_t stray_acks = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, channel_message& x) {
  return f(caf::meta::type_name("bus.channel_message"), x.id, x.attempt,
           x.correlation_id, x.body);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, channel_reply& x) {
  return f(caf::meta::type_name("bus.channel_reply"), x.request, x.correlation_id,
           x.body);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, channel_status& x) {
  return f(caf::meta::type_name("bus.channel_status"), x.receivers, x.pending,
           x.in_flight, x.acked, x.redelivered, x.ack_timeouts, x.requests_waiting,
           x.expired_requests, x.dropped_replies, x.stray_acks);
}

} // namespace bus::actors
