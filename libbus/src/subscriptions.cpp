#include "bus/subscriptions.hpp"

#include <algorithm>

namespace bus {

void subscriptions::subscribe(subscriber_id who,
                              const std::vector<std::string>& types) {
  unsubscribe(who);
  entry e;
  e.wildcard = types.empty()
               || std::find(types.begin(), types.end(), wildcard_type) != types.end();
  if (!e.wildcard) {
    e.types = types;
    for (auto& t : types) {
      auto& subs = by_type_[t];
      if (std::find(subs.begin(), subs.end(), who) == subs.end())
        subs.push_back(who);
    }
  }
  entries_.emplace(who, std::move(e));
  order_.push_back(who);
}

void subscriptions::unsubscribe(subscriber_id who) {
  auto i = entries_.find(who);
  if (i == entries_.end())
    return;
  for (auto& t : i->second.types) {
    auto j = by_type_.find(t);
    if (j == by_type_.end())
      continue;
    auto& subs = j->second;
    subs.erase(std::remove(subs.begin(), subs.end(), who), subs.end());
    if (subs.empty())
      by_type_.erase(j);
  }
  entries_.erase(i);
  order_.erase(std::remove(order_.begin(), order_.end(), who), order_.end());
}

bool subscriptions::wants(subscriber_id who, std::string_view type) const {
  auto i = entries_.find(who);
  if (i == entries_.end())
    return false;
  auto& e = i->second;
  return e.wildcard || std::find(e.types.begin(), e.types.end(), type) != e.types.end();
}

std::vector<subscriptions::subscriber_id>
subscriptions::subscribers_of(const std::vector<std::string_view>& types) const {
  std::vector<subscriber_id> result;
  for (auto who : order_) {
    auto& e = entries_.at(who);
    auto match = e.wildcard || std::any_of(types.begin(), types.end(), [&](auto t) {
                   return std::find(e.types.begin(), e.types.end(), t) != e.types.end();
                 });
    if (match)
      result.push_back(who);
  }
  return result;
}

} // namespace bus
