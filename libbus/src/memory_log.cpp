#include "bus/memory_log.hpp"

#include <algorithm>
#include <chrono>

namespace bus {

std::optional<std::uint64_t> memory_log::find(std::string_view id) const {
  if (auto i = ids_.find(id); i != ids_.end())
    return i->second;
  return std::nullopt;
}

event_batch memory_log::read(std::uint64_t from, std::size_t max) const {
  if (from == 0 || from > head_ || max == 0)
    return {};
  // The chunk holding `from` is the last one starting at or before it.
  auto i = std::upper_bound(chunks_.begin(), chunks_.end(), from,
                            [](std::uint64_t seq, const chunk& c) {
                              return seq < c.first_seq;
                            });
  --i;
  auto first = static_cast<std::size_t>(from - i->first_seq);
  auto last = std::min(i->events->size(), first + max);
  return event_batch{i->events, first, last};
}

append_result memory_log::do_append(std::vector<event> batch) {
  append_result result;
  result.outcomes.reserve(batch.size());
  auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
               .count();
  // Reserved up front, so the ids indexed below never move.
  auto stored = std::vector<event>{};
  stored.reserve(batch.size());
  for (auto& e : batch) {
    // Store first, then index the stored id: one hash probe per event.
    stored.push_back(std::move(e));
    auto& x = stored.back();
    auto [i, added] = ids_.try_emplace(std::string_view{x.id}, head_ + 1);
    if (!added) {
      result.outcomes.push_back({x.id, i->second, true});
      stored.pop_back();
      continue;
    }
    x.seq = ++head_;
    if (x.timestamp == 0)
      x.timestamp = now;
    result.outcomes.push_back({x.id, head_, false});
  }
  if (stored.empty())
    return result;
  auto first_seq = stored.front().seq;
  auto events = std::make_shared<const std::vector<event>>(std::move(stored));
  chunks_.push_back({first_seq, events});
  result.appended = event_batch{std::move(events)};
  return result;
}

} // namespace bus
