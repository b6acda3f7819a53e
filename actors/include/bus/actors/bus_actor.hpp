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
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/duration.hpp>

#include "bus/actors/fwd.hpp"
#include "bus/event_log.hpp"
#include "bus/subscriptions.hpp"

namespace bus::actors {

/// Tuning of the bus.
struct bus_options {
  /// Deliveries a subscriber may have unacknowledged. Past that the bus
  /// stops pushing to it; its next push covers only itself, so the projector
  /// sees the gap and pulls the log until it has caught up. This bounds
  /// every projector's mailbox, whatever the publish rate.
  std::uint32_t max_in_flight = 64;
  /// How long a delivery may stay unanswered before the bus stops waiting
  /// for it (the publish is then acknowledged without that model, which
  /// pulls the events from the log later). A lost projector is noticed
  /// through its down message; with projectors on other nodes, set a finite
  /// timeout to bound what that cannot notice.
  caf::duration delivery_timeout = caf::infinite;
};

/// One delivery under way; settled once, by its answer, its timeout or the
/// subscriber's loss, whichever comes first.
struct outstanding_delivery;

struct bus_state {
  struct subscriber {
    projector_actor handle;
    std::string name;
    /// Every seq up to this one has been sent, or was of no interest.
    std::uint64_t covered = 0;
    /// Deliveries sent and not yet acknowledged.
    std::uint32_t in_flight = 0;
    /// True after a push was withheld: the next one covers only itself.
    bool lagging = false;
    /// Deliveries sent and not yet settled, oldest first.
    std::deque<std::shared_ptr<outstanding_delivery>> outstanding;
  };

  std::shared_ptr<event_log> log;
  bus_options options;
  subscriptions subs;
  std::unordered_map<subscriptions::subscriber_id, subscriber> subscribers;
  subscriptions::subscriber_id next_id = 1;
  /// Nodes attached for query routing, by supervisor address.
  std::vector<node_entry> nodes;
  /// Replies held until the log's next sync, in arrival order; each is
  /// called with the sync's error, or with none once its events are durable.
  std::vector<std::function<void(const caf::error&)>> awaiting_sync;
  /// True while a sync_atom is on its way.
  bool sync_armed = false;

  static inline const char* name = "bus";
};

/// Spawns with `sys.spawn(bus_impl, log, bus_options{})`; the bus owns
/// `log` from then on.
bus_actor::behavior_type
bus_impl(bus_actor::stateful_pointer<bus_state> self,
         std::shared_ptr<event_log> log, bus_options options);

} // namespace bus::actors
