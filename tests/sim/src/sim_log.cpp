#include "sim_log.hpp"

#include <algorithm>

namespace bus::sim {

std::optional<std::uint64_t> sim_log::find(std::string_view id) const {
  if (auto i = ids_.find(std::string{id}); i != ids_.end())
    return i->second;
  return std::nullopt;
}

event_batch sim_log::read(std::uint64_t from, std::size_t max) const {
  if (from == 0 || from > events_.size() || max == 0)
    return {};
  auto last = std::min<std::uint64_t>(events_.size(), from + max - 1);
  std::vector<event> out;
  out.reserve(last - from + 1);
  for (auto seq = from; seq <= last; ++seq)
    out.push_back(events_[seq - 1]->front());
  return event_batch::of(std::move(out));
}

void sim_log::sync() {
  if (fail_next_) {
    fail_next_ = false;
    ++failed_syncs_;
    // As a store does: nothing durable is lost, everything after is gone.
    while (events_.size() > durable_) {
      ids_.erase(events_.back()->front().id);
      events_.pop_back();
    }
    throw storage_error("simulated sync failure");
  }
  durable_ = events_.size();
}

append_result sim_log::do_append(std::vector<event> batch) {
  append_result result;
  std::vector<event> appended;
  for (auto& e : batch) {
    if (auto seq = find(e.id)) {
      result.outcomes.push_back({e.id, *seq, true});
      continue;
    }
    e.seq = events_.size() + 1;
    // A fixed clock keeps runs of one seed identical.
    if (e.timestamp == 0)
      e.timestamp = static_cast<std::int64_t>(e.seq);
    ids_.emplace(e.id, e.seq);
    result.outcomes.push_back({e.id, e.seq, false});
    events_.push_back(std::make_shared<const std::vector<event>>(1, e));
    appended.push_back(std::move(e));
  }
  if (!holds_appends())
    durable_ = events_.size();
  result.appended = event_batch::of(std::move(appended));
  return result;
}

void fenced_log::sync() {
  if (fenced_)
    throw storage_error("the bus crashed");
  target_->sync();
}

append_result fenced_log::do_append(std::vector<event> batch) {
  if (fenced_)
    throw storage_error("the bus crashed");
  return target_->append(std::move(batch));
}

} // namespace bus::sim
