#pragma once

// The bus actor's state (see bus/actors/bus_actor.hpp), shared by its
// sources and read by tests; never installed.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor_addr.hpp>

#include "bus/actors/bus_actor.hpp"
#include "bus/event_log.hpp"
#include "bus/subscriptions.hpp"

namespace bus::actors {

/// One delivery under way; settled once, by its answer, its timeout or the
/// subscriber's loss, whichever comes first.
struct outstanding_delivery;

namespace internal {
struct pending_publish;
} // namespace internal

struct bus_state {
  // Not an aggregate, so that CAF never tries to build it from the actor's
  // self pointer (C++20).
  bus_state() = default;

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
    /// A blue/green shadow takes pushes, but no publish waits for it nor
    /// names it: its name is not the model's (actors::shadow_suffix).
    model_role role = model_role::live;
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
  /// The log's state when the bus last said so on the log (stderr): an
  /// operator learns of a failed store there, once, not from each reply.
  store_state store_told = store_state::healthy;
  bus_options options;
  subscriptions subs;
  std::unordered_map<subscriptions::subscriber_id, subscriber> subscribers;
  subscriptions::subscriber_id next_id = 1;
  /// Nodes attached for query routing, by supervisor address.
  std::vector<node_entry> nodes;
  /// The pauses of one shared model's partitions, for the partition count
  /// they were kept for (another count has other partitions).
  struct kept_pauses {
    std::uint32_t partitions = 0;
    std::vector<partition_pause> pauses;
  };
  /// The pauses of shared models' partitions, by model, as the nodes that
  /// ran them reported them (directory_pauses.hpp), and as options.
  /// directory_store kept them before a restart: sent with every
  /// assignment, so that a partition that moves keeps its pause. A
  /// partition without a record runs as its node keeps it.
  std::map<std::string, kept_pauses> shared_pauses;
  /// Replies held until the log's next sync, in arrival order; each is
  /// called with the sync's error, or with none once its events are durable.
  std::vector<std::function<void(const caf::error&)>> awaiting_sync;
  /// What brings the next sync to the held replies: nothing yet, the
  /// timer, the back of the mailbox, or a sync sent ahead of it (past
  /// options.sync_ahead_events). A timer or a queued sync outrun by another
  /// still comes later: it finds at most events held since, for which it
  /// comes early, never late.
  enum class next_sync { none, timer, queued, ahead };
  next_sync sync_request = next_sync::none;
  /// Publishes answered later (after a sync, or once projectors applied
  /// them), per publisher; bounded by options.max_publishes_in_flight.
  std::unordered_map<caf::actor_addr, std::uint32_t> publishing;
  /// A publisher held after a failed commit (publish_order::as_sent).
  struct held_publisher {
    /// The failed publish: its number among those taken, and its first
    /// event, with which the resend begins.
    std::uint64_t number = 0;
    std::string first_id;
  };
  std::unordered_map<caf::actor_addr, held_publisher> held_for_resend;
  /// Publishes taken to append so far (numbers them).
  std::uint64_t publishes_taken = 0;
  /// Events appended (durable) and duplicates found, for status.
  std::uint64_t appended = 0;
  std::uint64_t duplicates = 0;

  static inline const char* name = "bus";
};

/// The bus's behavior (spawn_bus spawns it).
bus_actor::behavior_type bus_impl(bus_actor::stateful_pointer<bus_state> self,
                                  std::shared_ptr<event_log> shared_log,
                                  bus_options options);

} // namespace bus::actors
