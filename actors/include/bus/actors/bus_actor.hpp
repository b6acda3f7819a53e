#pragma once

// The bus actor: owns the event log and the subscriptions. It appends
// published batches (idempotently, by id), pushes each appended batch to the
// projectors subscribed to its types, and serves replays from the log.
//
// With a log that syncs at an interval (group commit), the bus holds every
// reply that names an event not yet durable (a publish, also of a duplicate
// of such an event, and a resolve) until the sync that covers it, and fans
// a batch out only once it is durable: no projector, snapshot or reply ever
// covers an event a crash could lose. A failed sync answers every held
// reply with the storage error.
//
// Every subscriber gets its batches in seq order, each tagged with the first
// seq it covers, so a projector can tell a gap (it must pull) from events
// that simply were not for it. Batches are shared, never copied per
// subscriber.

#include <cstdint>
#include <memory>

#include <caf/fwd.hpp>
#include <caf/duration.hpp>

#include "bus/actors/interfaces.hpp"
#include "bus/actors/peer_role.hpp"
#include "bus/event_log.hpp"

namespace bus {

class lifecycle_store;

} // namespace bus

namespace bus::actors {

/// Tuning of the bus.
struct bus_options {
  /// Deliveries a subscriber may have unacknowledged. Past that the bus
  /// queues the batches whose publishers wait for the projectors (bounded
  /// by max_publishes_in_flight) and withholds the others: the projector
  /// then sees a gap and pulls the log until it has caught up. This bounds
  /// every projector's mailbox, whatever the publish rate.
  std::uint32_t max_in_flight = 64;
  /// How long a delivery may stay unanswered before the bus stops waiting
  /// for it (the publish is then acknowledged without that model, which
  /// pulls the events from the log later). A lost projector is noticed
  /// through its down message; with projectors on other nodes, set a finite
  /// timeout to bound what that cannot notice.
  caf::duration delivery_timeout = caf::infinite;
  /// Publishes one publisher may have unanswered (appended and waiting for
  /// a sync or for projectors). A publish past that is refused at once with
  /// errc::overloaded, appending nothing: the publisher must wait for an
  /// answer first. This bounds what the bus holds for its publishers.
  std::uint32_t max_publishes_in_flight = 64;
  /// Under a log's sync interval (durability interval:N): as soon as this
  /// many appended events, or this many held replies (publishes and
  /// resolves), wait for their sync, the bus syncs without waiting for the
  /// rest of the interval. Publishers wait for their answers
  /// (max_publishes_in_flight; bus-node's session keeps up to 48 under
  /// way), so a busy one would otherwise stall until each interval ends,
  /// whatever the disk could take; a group this large gains little from
  /// growing further.
  std::uint32_t sync_after_events = 16384;
  std::uint32_t sync_after_replies = 32;
  /// Appended events waiting for a sync that is queued behind other
  /// messages (a publisher sending faster than the log commits, without
  /// waiting for answers): past this many, the sync goes ahead of the rest
  /// of the mailbox, so that these are committed, answered and fanned out
  /// while the rest is appended, instead of after all of it. Above what
  /// bus-node's session keeps under way (48 batches of 1024), so that its
  /// groups stay whole.
  std::uint32_t sync_ahead_events = 65536;
  /// What actors on other nodes may ask (see peer_role.hpp): subscribing,
  /// replaying and attaching always; publishing and resolving from
  /// publisher up; redelivering, the directory and sync only when
  /// unrestricted (the default).
  peer_role peers = peer_role::unrestricted;
  /// Where the directory keeps what the operator wants of the partitions
  /// of models that projector nodes share (paused at a frozen point, or
  /// run; lifecycle_store.hpp): read when the bus starts and written as
  /// the nodes report them, so that a restarted bus sends them with its
  /// first assignments. Only the bus's actor uses it. None: kept in memory
  /// only, and learnt again from the nodes as they reattach after a
  /// restart.
  std::shared_ptr<lifecycle_store> directory_store = nullptr;
};

/// Spawns a bus that owns `log` from then on.
bus_actor spawn_bus(caf::actor_system& sys, std::shared_ptr<event_log> log,
                    bus_options options = {});

} // namespace bus::actors
