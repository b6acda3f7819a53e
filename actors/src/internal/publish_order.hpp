#pragma once

// A publisher's order across a failed commit (internal to bus_publish.cpp).
//
// A pipelined publisher has several publishes under way. When one fails to
// commit (a full disk) and the disk then has room again, the ones behind
// it would commit, and its resend would land after them: the log would no
// longer hold the publisher's events in the order sent. So after such a
// failure the bus holds the publisher: it refuses its later publishes
// until one begins with the failed publish's first event again (after
// events the log holds already), as a Kafka idempotent producer's sequence
// numbers refuse a batch out of turn.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor_addr.hpp>
#include <caf/error.hpp>

#include "bus/event.hpp"
#include "internal/fan_out.hpp"

namespace bus::actors::internal {

/// Refuses a publish of `events` from `publisher` held for a resend that
/// this is not; lifts the hold when it is, or when `order` is `any`.
caf::error check_publish_order(bus_self self, const caf::actor_addr& publisher,
                               const std::vector<event>& events, publish_order order);

/// Holds `publisher` after its publish (the bus's `number`th), whose first
/// event is `first_id`, failed with `err`: when the commit failed and the
/// publisher keeps its order, unless an earlier publish of it holds it.
void note_failed_publish(bus_self self, const caf::actor_addr& publisher,
                         std::uint64_t number, const std::string& first_id,
                         publish_order order, const caf::error& err);

} // namespace bus::actors::internal
