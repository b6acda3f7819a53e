#include "bus/event_log.hpp"

#include <algorithm>
#include <chrono>
#include <ostream>
#include <string>
#include <unordered_map>

#include "bus/event_id.hpp"

namespace bus {

const char* to_string(store_state x) noexcept {
  switch (x) {
    case store_state::failed:
      return "failed";
    case store_state::fenced:
      return "fenced";
    case store_state::healthy:
      break;
  }
  return "healthy";
}

std::ostream& operator<<(std::ostream& out, store_state x) {
  return out << to_string(x);
}

event_log::~event_log() {
  // nop
}

void event_log::sync() {
  // nop: append() made everything durable
}

std::int64_t event_log::now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

namespace {

bool same_content(const event& x, const event& y) {
  return x.type == y.type && x.payload == y.payload;
}

} // namespace

void event_log::settle_ids(std::vector<event>& batch) const {
  auto derived = [](const event& e) { return e.id_derived; };
  if (std::none_of(batch.begin(), batch.end(), derived))
    return; // explicit ids need no settling: do_append dedups them
  // Derived ids are settled by content against the log and against the
  // events earlier in this batch (see event_id.hpp).
  std::unordered_map<std::string, std::size_t> claimed; // id -> batch index
  for (std::size_t i = 0; i < batch.size(); ++i) {
    auto& e = batch[i];
    if (!e.id_derived) {
      // A given id already in the log is a duplicate, not a holder: the
      // log's event holds that id.
      if (!find(e.id))
        claimed.emplace(e.id, i);
      continue;
    }
    auto base = e.id;
    std::uint64_t fingerprint = 0;
    for (unsigned attempt = 0;; ++attempt) {
      if (attempt > 0) {
        if (attempt == 1)
          fingerprint = content_fingerprint(e.type, e.payload);
        e.id = alternate_event_id(base, fingerprint, attempt);
      }
      const event* holder = nullptr;
      event_batch held;
      if (auto j = claimed.find(e.id); j != claimed.end()) {
        holder = &batch[j->second];
      } else if (auto seq = find(e.id)) {
        held = read(*seq, 1);
        if (!held.empty())
          holder = &held.front();
      }
      if (holder == nullptr || same_content(*holder, e))
        break; // free, or a redelivery of the holder
    }
    claimed.emplace(e.id, i);
  }
}

append_result event_log::append(std::vector<event> batch) {
  settle_ids(batch);
  return do_append(std::move(batch));
}

std::vector<append_outcome> event_log::resolve(std::vector<event>& batch) const {
  settle_ids(batch);
  std::vector<append_outcome> result;
  result.reserve(batch.size());
  std::unordered_map<std::string_view, std::size_t> seen;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    auto& e = batch[i];
    if (auto seq = find(e.id))
      result.push_back({e.id, *seq, true});
    else if (!seen.emplace(e.id, i).second)
      result.push_back({e.id, 0, true});
    else
      result.push_back({e.id, 0, false});
  }
  return result;
}

} // namespace bus
