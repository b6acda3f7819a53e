#pragma once

// The bookkeeping of a point-to-point channel, without actors: which
// messages wait, which receiver holds which message, and what is settled.
// The channel actor (bus/actors/channel.hpp) drives it; it is pure and
// single-threaded, so its rules are tested on their own.
//
// Rules it keeps:
// - every message is held by at most one receiver at a time;
// - a settled message (acked, or expired for a request nobody waits for) is
//   never handed out again;
// - a message not settled is never dropped: when its receiver leaves or its
//   delivery times out it goes back to pending, and pending messages go out
//   in id order as soon as a receiver has credit.

#include <cstdint>
#include <iosfwd>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace bus {

/// Where a message of a point-to-point channel stands.
enum class delivery_state : std::uint8_t {
  /// Waits for a receiver with free credit.
  pending,
  /// Handed to a receiver, not yet acknowledged.
  in_flight,
  /// Acknowledged (or replied to): never delivered again.
  acked,
  /// A request whose requester stopped waiting before it was acknowledged:
  /// never delivered again.
  expired,
};

/// Returns the name of `x`, e.g. "in_flight".
std::string to_string(delivery_state x);

/// Prints the name of `x`.
std::ostream& operator<<(std::ostream& out, delivery_state x);

/// A message handed to a receiver by channel_ledger::assign.
struct dispatch {
  std::uint64_t message = 0;
  std::uint64_t receiver = 0;
  /// 1 for the first delivery, 2 for the first redelivery, and so on.
  std::uint32_t attempt = 0;
};

/// What an acknowledgement did.
enum class ack_outcome : std::uint8_t {
  /// The message is acked now.
  acked,
  /// The message was settled before (a second ack, or after expiry).
  already_settled,
  /// No such message (never sent, or settled and forgotten since).
  unknown,
};

/// The state of a point-to-point channel's messages and receivers.
class channel_ledger {
public:
  /// Adds a pending message; returns its id (1, 2, ..., never reused).
  std::uint64_t add();

  /// Registers receiver `r` able to hold `credit` messages at a time (0
  /// counts as 1). Returns false when `r` is registered already.
  bool add_receiver(std::uint64_t r, std::uint32_t credit);

  /// Unregisters receiver `r`; returns the ids of the messages it held, now
  /// pending again.
  std::vector<std::uint64_t> remove_receiver(std::uint64_t r);

  /// Hands pending messages, lowest id first, to receivers with free credit
  /// in turn, avoiding the receiver whose delivery timed out when another
  /// one has room. Returns what to send.
  std::vector<dispatch> assign();

  /// Acknowledges message `id`, whoever held it.
  ack_outcome ack(std::uint64_t id);

  /// Puts message `id` back to pending if it is still in flight with
  /// delivery `attempt` (an ack timeout); returns whether it did.
  bool expire_delivery(std::uint64_t id, std::uint32_t attempt);

  /// Settles message `id` as expired unless it is settled already; returns
  /// whether it did.
  bool expire(std::uint64_t id);

  /// The state of message `id`, or nothing when unknown or forgotten.
  std::optional<delivery_state> state_of(std::uint64_t id) const;

  /// The receiver holding message `id`, if it is in flight.
  std::optional<std::uint64_t> holder_of(std::uint64_t id) const;

  /// Whether `r` is a registered receiver.
  bool has_receiver(std::uint64_t r) const;

  std::size_t receivers() const { return receivers_.size(); }
  std::size_t pending() const { return pending_.size(); }
  std::size_t in_flight() const { return in_flight_; }
  std::uint64_t acked() const { return acked_; }
  std::uint64_t expired() const { return expired_; }
  /// Deliveries after the first one of a message.
  std::uint64_t redelivered() const { return redelivered_; }

private:
  struct entry {
    delivery_state state = delivery_state::pending;
    std::optional<std::uint64_t> holder;
    /// The receiver whose delivery timed out last: others go first.
    std::optional<std::uint64_t> avoid;
    std::uint32_t attempts = 0;
  };

  struct receiver {
    std::uint32_t credit = 1;
    std::set<std::uint64_t> held;
  };

  // Returns a receiver with free credit, round-robin after the last one
  // chosen, preferring any receiver but `avoid`.
  std::optional<std::uint64_t> pick(std::optional<std::uint64_t> avoid) const;
  void release(entry& e, std::uint64_t id);
  void settle(entry& e, std::uint64_t id, delivery_state to);
  // Forgets settled entries below the lowest live one, so that the ledger
  // does not grow with the messages a channel ever carried.
  void compact();

  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, entry> entries_;
  std::set<std::uint64_t> pending_;
  std::map<std::uint64_t, receiver> receivers_;
  std::optional<std::uint64_t> last_pick_;
  std::size_t in_flight_ = 0;
  std::uint64_t acked_ = 0;
  std::uint64_t expired_ = 0;
  std::uint64_t redelivered_ = 0;
};

} // namespace bus
