#include "internal/read_cache.hpp"

#include <algorithm>

namespace bus::internal {

read_cache::read_cache(std::size_t slots, std::size_t chunk_events)
  : chunk_events_(std::max<std::size_t>(chunk_events, 1)),
    slots_(std::max<std::size_t>(slots, 1)) {
  // nop
}

event_batch read_cache::view(const slot& s, std::uint64_t from, std::size_t max) {
  auto first = static_cast<std::size_t>(from - s.first_seq);
  auto last = std::min(s.events->size(), first + max);
  return event_batch{s.events, first, last};
}

event_batch read_cache::read(std::uint64_t from, std::size_t max) {
  for (auto& s : slots_)
    if (s.events && from >= s.first_seq && from < s.first_seq + s.events->size()) {
      s.used = ++clock_;
      return view(s, from, max);
    }
  return {};
}

event_batch read_cache::add(std::uint64_t first_seq, shared_events events,
                            std::uint64_t from, std::size_t max) {
  auto oldest = std::min_element(slots_.begin(), slots_.end(),
                                 [](const slot& x, const slot& y) {
                                   return x.used < y.used;
                                 });
  oldest->first_seq = first_seq;
  oldest->events = std::move(events);
  oldest->used = ++clock_;
  return view(*oldest, from, max);
}

void read_cache::clear() noexcept {
  for (auto& s : slots_)
    s = slot{};
}

} // namespace bus::internal
