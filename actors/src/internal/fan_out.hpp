#pragma once

// The bus's delivery of appended batches to its subscribers (internal to
// the bus actor's sources).
//
// Every subscriber sees the log in seq order. Each push and each progress
// note announces a range of seqs: a push carries the events of interest in
// it, a progress note says that none of its range is of interest, so that a
// model with nothing to do keeps its checkpoint at the head. A subscriber
// has at most `max_in_flight` deliveries unanswered:
// - a batch whose publisher waits for the projectors is queued until there
//   is room, never withheld, so the acknowledgement names every model that
//   applied it (the publishers' own limit bounds the queue);
// - a batch nobody waits for is withheld instead; the subscriber is then
//   `lagging`, and its next push tells it to pull the gap from the log.

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include <caf/fwd.hpp>

#include "internal/bus_state.hpp"

namespace bus::actors::internal {

using bus_self = bus_actor::stateful_pointer<bus_state>;

/// Collects the projectors' answers for one publish whose publisher waits.
struct pending_publish {
  caf::typed_response_promise<publish_ack> promise;
  publish_ack ack;
  /// Index in the published batch of each appended event.
  std::vector<std::uint32_t> published_index;
  /// Deliveries still unanswered, plus one while the fan-out runs.
  std::size_t remaining = 1;
  /// The publisher, whose count of publishes in flight drops once answered.
  caf::actor_addr publisher;

  pending_publish() = default;
  pending_publish(const pending_publish&) = delete;
  pending_publish& operator=(const pending_publish&) = delete;

  /// Answers a publish still unanswered when it is dropped (the bus stops
  /// before its projectors answered): an error, never silence, which would
  /// leave a publisher without a timeout waiting for ever.
  ~pending_publish();
};

using pending_ptr = std::shared_ptr<pending_publish>;

/// Fans `batch` (appended, durable) out to every subscriber. With
/// `pending`, the publish is answered once every subscriber has processed
/// the batch's range: applied what it wanted, passed the rest.
void fan_out(bus_self self, const event_batch& batch, pending_ptr pending);

/// Pushes `batch` again to every subscriber that wants one of its types and
/// has room (a redelivery: every seq of it was announced before).
void push_again(bus_self self, const event_batch& batch);

/// Forgets the subscriber with address `who`, answering for everything it
/// left unanswered. Returns false when there is none.
bool drop_subscriber(bus_self self, const caf::actor_addr& who);

/// Forgets the subscriber with address `who` like drop_subscriber, but has
/// `successor` (a blue/green switch's new live projector) answer the
/// awaited batches it left unanswered: their publishes then name the model
/// when the successor took their events. Returns false when there is none.
bool hand_over_subscriber(bus_self self, const caf::actor_addr& who,
                          projector_actor successor);

/// Returns how many publishes of `publisher` wait for their answers. An
/// anonymous publisher (anon_send) waits for none and is never counted:
/// std::hash<caf::actor_addr> would read its null address's id.
std::uint32_t publishes_in_flight(bus_self self, const caf::actor_addr& publisher);

/// Counts a publish of `publisher` whose answer comes later (from
/// answer_publish, which counts it off again).
void hold_publish(bus_self self, const caf::actor_addr& publisher);

/// Answers a publish that had to wait (for a sync or the projectors), and
/// lowers its publisher's count of publishes in flight.
void answer_publish(bus_self self, caf::typed_response_promise<publish_ack>& promise,
                    caf::expected<publish_ack> answer,
                    const caf::actor_addr& publisher);

} // namespace bus::actors::internal
