#pragma once

// The node-level subscription: which event types the node takes (logs and
// hands to its read models). The rest are acknowledged without being
// logged. "*" stands for every type, as in bus::subscriptions; unlike
// there, subscribe and unsubscribe add to and take from what the node has.
// Owned by the session actor; not thread-safe.

#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace bus::node {

class node_subscription {
public:
  /// Returns true if the node takes events of `type`.
  bool takes(std::string_view type) const;

  /// Adds `types`; "*" among them makes the node take every type.
  void subscribe(const std::vector<std::string>& types);

  /// Removes `types`; "*" among them makes the node take no type.
  void unsubscribe(const std::vector<std::string>& types);

private:
  enum class mode {
    /// Before any subscribe or unsubscribe: every type, until the first
    /// subscribe replaces it with the types it lists.
    every_by_default,
    /// Every type but those in `types_` ("*" was subscribed).
    every_but,
    /// Only the types in `types_`.
    listed,
  };

  mode mode_ = mode::every_by_default;
  /// The exceptions (every_but) or the taken types (listed).
  std::set<std::string, std::less<>> types_;
};

} // namespace bus::node
