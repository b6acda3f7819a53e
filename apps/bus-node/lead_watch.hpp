#pragma once

// A bus node leading its PostgreSQL log keeps its lease in a thread of its
// own (leadership.hpp). This is what the node does as that lease changes:
// log it, show it on the admin endpoint's board and, once another node
// took the lease, stop the bus and turn every request away. Built only
// with PostgreSQL (BUS_HAS_POSTGRESQL).

#include <atomic>
#include <memory>

#include "bus/actors/bus_actor.hpp"
#include "leadership.hpp"
#include "session.hpp"

namespace bus::node {

/// The keeper of a lease and what it shows.
struct lead_watch {
  std::unique_ptr<lease_keeper> keeper;
  /// For the admin endpoint's status and health.
  std::shared_ptr<lease_board> board;
};

/// Keeps the lease of `lead` (taken from it), moving `confirmed` for the
/// session. Once the lease is lost, sets `lost_lead`, tells `session` and
/// stops `bus`: its projector nodes then dial the new leader.
lead_watch watch_lead(led_log& lead, lead_confirmed confirmed, session_actor session,
                      actors::bus_actor bus,
                      std::shared_ptr<std::atomic<bool>> lost_lead);

} // namespace bus::node
