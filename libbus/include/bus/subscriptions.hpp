#pragma once

// Which subscribers want which event types. A subscriber is a number chosen
// by the owner (the bus actor maps it to an actor handle), which keeps this
// table free of CAF. Not thread-safe; owned by one actor.

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace bus {

/// The event type that subscribes to every type.
inline constexpr std::string_view wildcard_type = "*";

/// Event type -> subscribers, plus wildcard subscribers.
class subscriptions {
public:
  using subscriber_id = std::uint64_t;

  /// Subscribes `who` to `types`, replacing what it had. An empty list or
  /// one containing "*" subscribes it to every type.
  void subscribe(subscriber_id who, const std::vector<std::string>& types);

  /// Removes every subscription of `who`.
  void unsubscribe(subscriber_id who);

  /// Returns true if `who` receives events of `type`.
  bool wants(subscriber_id who, std::string_view type) const;

  /// Returns the subscribers that receive at least one of `types`, each
  /// once, in the order they subscribed.
  std::vector<subscriber_id>
  subscribers_of(const std::vector<std::string_view>& types) const;

  /// Returns every subscriber, in the order they subscribed.
  const std::vector<subscriber_id>& all() const noexcept { return order_; }

private:
  struct entry {
    bool wildcard = false;
    std::vector<std::string> types;
  };

  std::unordered_map<subscriber_id, entry> entries_;
  std::unordered_map<std::string, std::vector<subscriber_id>> by_type_;
  std::vector<subscriber_id> order_;
};

} // namespace bus
