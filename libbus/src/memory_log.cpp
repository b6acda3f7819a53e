#include "bus/memory_log.hpp"

#include <algorithm>
#include <functional>

#include "internal/id_index.hpp"

namespace bus {

namespace {

std::uint64_t hash_id(std::string_view id) {
  return std::hash<std::string_view>{}(id);
}

} // namespace

memory_log::memory_log() : ids_(std::make_unique<internal::id_index>()) {
  // nop
}

memory_log::~memory_log() {
  // nop
}

const memory_log::chunk& memory_log::chunk_of(std::uint64_t seq) const {
  // The last chunk starting at or before `seq`.
  auto i = std::upper_bound(chunks_.begin(), chunks_.end(), seq,
                            [](std::uint64_t x, const chunk& c) {
                              return x < c.first_seq;
                            });
  return *--i;
}

const event& memory_log::at(std::uint64_t seq) const {
  auto& c = chunk_of(seq);
  return (*c.events)[seq - c.first_seq];
}

std::optional<std::uint64_t> memory_log::find(std::string_view id) const {
  auto seq = ids_->find(hash_id(id),
                        [&](std::uint64_t s) { return at(s).id == id; });
  if (seq == 0)
    return std::nullopt;
  return seq;
}

event_batch memory_log::read(std::uint64_t from, std::size_t max) const {
  if (from == 0 || from > head_ || max == 0)
    return {};
  auto& c = chunk_of(from);
  auto first = static_cast<std::size_t>(from - c.first_seq);
  auto last = std::min(c.events->size(), first + max);
  return event_batch{c.events, first, last};
}

append_result memory_log::do_append(std::vector<event> batch) {
  append_result result;
  result.outcomes.reserve(batch.size());
  auto now = now_ns();
  // New events go to the last chunk if it has room for the whole batch
  // (its views stay valid: no reallocation), else to a fresh one.
  if (chunks_.empty()
      || chunks_.back().events->capacity() - chunks_.back().events->size()
           < batch.size()) {
    auto events = std::make_shared<std::vector<event>>();
    events->reserve(std::max(chunk_capacity, batch.size()));
    chunks_.push_back({head_ + 1, std::move(events)});
  }
  auto& target = chunks_.back();
  auto& stored = *target.events;
  auto first_index = stored.size();
  for (auto& e : batch) {
    // Events appended earlier in this batch are in `target` already.
    auto same = [&](std::uint64_t seq) { return at(seq).id == e.id; };
    if (auto seq = ids_->insert(hash_id(e.id), head_ + 1, same); seq != 0) {
      result.outcomes.push_back({e.id, seq, true});
      continue;
    }
    e.seq = ++head_;
    if (e.timestamp == 0)
      e.timestamp = now;
    result.outcomes.push_back({e.id, head_, false});
    stored.push_back(std::move(e));
  }
  if (stored.size() > first_index)
    result.appended = event_batch{target.events, first_index, stored.size()};
  return result;
}

} // namespace bus
