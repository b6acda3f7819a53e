#pragma once

// Looks up what a declarative model does with an event type: the rule for
// the exact type wins over a "*" rule.

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bus/subscriptions.hpp"

namespace bus::internal {

template <class Action>
const std::pair<std::string, Action>*
find_rule(const std::vector<std::pair<std::string, Action>>& rules,
          std::string_view type) {
  const std::pair<std::string, Action>* wildcard = nullptr;
  for (auto& rule : rules) {
    if (rule.first == type)
      return &rule;
    if (wildcard == nullptr && rule.first == wildcard_type)
      wildcard = &rule;
  }
  return wildcard;
}

/// Joins event types for a model's definition(): "A,B,".
inline std::string join_types(const std::vector<std::string>& types) {
  std::string out;
  for (auto& t : types)
    out += t + ",";
  return out;
}

} // namespace bus::internal
