#include "node_subscription.hpp"

#include <algorithm>

#include "bus/subscriptions.hpp"

namespace bus::node {

namespace {

bool has_wildcard(const std::vector<std::string>& types) {
  return std::find(types.begin(), types.end(), wildcard_type) != types.end();
}

} // namespace

bool node_subscription::takes(std::string_view type) const {
  auto listed = types_.find(type) != types_.end();
  return mode_ == mode::listed ? listed : !listed;
}

void node_subscription::subscribe(const std::vector<std::string>& types) {
  // The first subscribe says what the client wants instead of the default.
  if (mode_ == mode::every_by_default) {
    mode_ = mode::listed;
    types_.clear();
  }
  if (has_wildcard(types)) {
    mode_ = mode::every_but;
    types_.clear();
    return;
  }
  for (auto& t : types) {
    if (mode_ == mode::every_but)
      types_.erase(t); // no longer an exception
    else
      types_.insert(t);
  }
}

void node_subscription::unsubscribe(const std::vector<std::string>& types) {
  if (has_wildcard(types)) {
    mode_ = mode::listed;
    types_.clear();
    return;
  }
  // Narrowing the default keeps every other type, including types no local
  // model handles (a bus node may serve only models of other nodes).
  if (mode_ == mode::every_by_default)
    mode_ = mode::every_but;
  for (auto& t : types) {
    if (mode_ == mode::every_but)
      types_.insert(t);
    else
      types_.erase(t);
  }
}

} // namespace bus::node
