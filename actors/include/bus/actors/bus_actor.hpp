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

#include <caf/actor_addr.hpp>
#include <caf/duration.hpp>

#include "bus/actors/fwd.hpp"
#include "bus/event_log.hpp"
#include "bus/subscriptions.hpp"

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
};

/// One delivery under way; settled once, by its answer, its timeout or the
/// subscriber's loss, whichever comes first.
struct outstanding_delivery;

namespace internal {
struct pending_publish;
} // namespace internal

struct bus_state {
  /// Whether a subscriber has been sent every batch of interest to it.
  enum class delivery_mode {
    /// Every batch for it was sent or is queued.
    in_step,
    /// A batch nobody waited for was withheld (its window was full): its
    /// next push makes it pull the gap from the log.
    lagging,
  };

  /// A batch waiting for room in a subscriber's window, or a gap: a batch
  /// that was withheld behind the queued ones (an empty `batch`), after
  /// which the next push covers only itself.
  struct queued_push {
    event_batch batch;
    std::shared_ptr<internal::pending_publish> pending;
    std::size_t slot = 0;
  };

  struct subscriber {
    projector_actor handle;
    std::string name;
    /// Every seq up to this one was sent, queued, withheld or of no
    /// interest to it.
    std::uint64_t covered = 0;
    /// Every seq up to this one was announced to it: in a push, or as of no
    /// interest in a progress note.
    std::uint64_t announced = 0;
    delivery_mode mode = delivery_mode::in_step;
    /// Deliveries sent and not yet answered.
    std::uint32_t in_flight = 0;
    /// Deliveries sent and not yet settled, oldest first.
    std::deque<std::shared_ptr<outstanding_delivery>> outstanding;
    /// Awaited batches waiting for room in the window, oldest first.
    std::deque<queued_push> queued;
    /// Awaited publishes of no interest to it, answered once it has passed
    /// them (with its next delivery).
    std::vector<std::shared_ptr<internal::pending_publish>> passing;
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
  /// Publishes answered later (after a sync, or once projectors applied
  /// them), per publisher; bounded by options.max_publishes_in_flight.
  std::unordered_map<caf::actor_addr, std::uint32_t> publishing;
  /// Events appended (durable) and duplicates found, for status.
  std::uint64_t appended = 0;
  std::uint64_t duplicates = 0;

  static inline const char* name = "bus";
};

/// Spawns with `sys.spawn(bus_impl, log, bus_options{})`; the bus owns
/// `log` from then on.
bus_actor::behavior_type
bus_impl(bus_actor::stateful_pointer<bus_state> self,
         std::shared_ptr<event_log> log, bus_options options);

} // namespace bus::actors
