#include "bus/upcasters.hpp"

#include <algorithm>
#include <limits>
#include <set>

#include "bus/errc.hpp"
#include "bus/subscriptions.hpp"

namespace bus {

namespace {

std::string name_of(std::string_view type, std::uint32_t version) {
  return std::string{type} + " v" + std::to_string(version);
}

} // namespace

caf::expected<upcaster_registry_ptr>
upcaster_registry::make(std::vector<upcaster> steps) {
  std::shared_ptr<upcaster_registry> result{new upcaster_registry};
  for (auto& step : steps) {
    if (step.type.empty())
      return make_error(errc::invalid_config, "an upcaster needs an event type");
    auto what = "the upcaster of " + name_of(step.type, step.from);
    if (step.from == 0)
      return make_error(errc::invalid_config,
                        "the upcaster of " + step.type + ": versions start at 1");
    if (step.from == std::numeric_limits<std::uint32_t>::max())
      return make_error(errc::invalid_config, what + ": no version follows it");
    if (!step.change)
      return make_error(errc::invalid_config, what + " has no function");
    auto& of_type = result->steps_[step.type];
    if (of_type.count(step.from) > 0)
      return make_error(errc::invalid_config,
                        "two upcasters of " + name_of(step.type, step.from));
    auto from = step.from;
    of_type.emplace(from, std::move(step));
  }
  // Every chain ends past the last step of its final type: otherwise an
  // event would stop short of a version that later steps start from.
  for (auto& [type, of_type] : result->steps_) {
    for (auto& [from, step] : of_type) {
      auto [to_type, to_version] = result->target_of(type, from);
      auto i = result->steps_.find(to_type);
      if (i == result->steps_.end())
        continue;
      auto later = i->second.upper_bound(to_version);
      if (later != i->second.end())
        return make_error(errc::invalid_config,
                          "upcasters of " + name_of(type, from) + " end at "
                            + name_of(to_type, to_version) + ", but one starts at "
                            + name_of(to_type, later->first) + ": missing "
                            + name_of(to_type, to_version) + " -> v"
                            + std::to_string(to_version + 1));
    }
  }
  return upcaster_registry_ptr{std::move(result)};
}

const upcaster* upcaster_registry::find(std::string_view type,
                                        std::uint32_t version) const {
  auto i = steps_.find(type);
  if (i == steps_.end())
    return nullptr;
  auto j = i->second.find(version);
  return j == i->second.end() ? nullptr : &j->second;
}

const event& upcaster_registry::upcast(const event& e,
                                       std::optional<event>& scratch) const {
  auto* step = find(e.type, e.schema_version);
  if (step == nullptr)
    return e;
  auto& copy = scratch.emplace(e);
  // Each step raises the version, so the chain ends.
  for (; step != nullptr; step = find(copy.type, copy.schema_version)) {
    step->change(copy);
    copy.schema_version = step->from + 1;
    if (!step->to_type.empty())
      copy.type = step->to_type;
  }
  return copy;
}

std::pair<std::string, std::uint32_t>
upcaster_registry::target_of(std::string_view type, std::uint32_t version) const {
  std::pair<std::string, std::uint32_t> at{std::string{type}, version};
  for (auto* step = find(type, version); step != nullptr;
       step = find(at.first, at.second)) {
    at.second = step->from + 1;
    if (!step->to_type.empty())
      at.first = step->to_type;
  }
  return at;
}

std::vector<std::string>
upcaster_registry::sources_of(const std::vector<std::string>& types) const {
  std::vector<std::string> result = types;
  if (std::find(types.begin(), types.end(), wildcard_type) != types.end())
    return result;
  std::set<std::string, std::less<>> wanted(types.begin(), types.end());
  // A type whose events end, at any version, as a wanted type is wanted.
  for (bool grew = true; grew;) {
    grew = false;
    for (auto& [type, of_type] : steps_) {
      if (wanted.count(type) > 0)
        continue;
      for (auto& [from, step] : of_type) {
        if (wanted.count(target_of(type, from).first) > 0) {
          wanted.insert(type);
          result.push_back(type);
          grew = true;
          break;
        }
      }
    }
  }
  return result;
}

std::string
upcaster_registry::definition_of(const std::vector<std::string>& types) const {
  auto sources = sources_of(types);
  bool all = std::find(sources.begin(), sources.end(), wildcard_type) != sources.end();
  std::set<std::string, std::less<>> received(sources.begin(), sources.end());
  // Each step a received event may pass through: the chains from every
  // step of a received type (a step renaming the type away counts too).
  std::set<const upcaster*> touching;
  for (auto& [type, of_type] : steps_) {
    if (!all && received.count(type) == 0)
      continue;
    for (auto& [from, first] : of_type)
      for (auto* step = &first; step != nullptr && touching.insert(step).second;)
        step = find(step->to_type.empty() ? step->type : step->to_type, step->from + 1);
  }
  // In (type, from) order, whatever the pointers' order.
  std::set<std::pair<std::string_view, std::uint32_t>> order;
  for (auto* step : touching)
    order.emplace(step->type, step->from);
  std::string result;
  for (auto& [type, from] : order) {
    auto& step = *find(type, from);
    result += "\nupcaster " + name_of(type, from) + " -> ";
    result += step.to_type.empty() ? step.type : step.to_type;
    result += ' ';
    result += step.description;
  }
  return result;
}

} // namespace bus
