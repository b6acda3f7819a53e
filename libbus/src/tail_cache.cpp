#include "internal/tail_cache.hpp"

#include <algorithm>

namespace bus::internal {

tail_cache::tail_cache(std::size_t capacity, std::size_t chunk_events)
  : capacity_(capacity),
    chunk_events_(std::max<std::size_t>(chunk_events, 1)),
    spare_(spare_chunks, chunk_events_) {
  // nop
}

void tail_cache::prepare(std::uint64_t first_seq, std::size_t n) {
  if (!chunks_.empty()) {
    auto& last = chunks_.back();
    if (last.open && last.events->capacity() - last.events->size() >= n)
      return;
    last.open = false;
  }
  chunks_.push_back(chunk{first_seq, 0, true, spare_.take(n)});
}

void tail_cache::push(event&& e) {
  auto& last = chunks_.back();
  // prepare() reserved the room: no reallocation moves events under views.
  last.events->push_back(std::move(e));
  ++last.count;
  ++size_;
}

const tail_cache::chunk* tail_cache::chunk_of(std::uint64_t seq) const {
  if (chunks_.empty() || seq < chunks_.front().first_seq
      || seq > chunks_.back().first_seq + chunks_.back().count - 1)
    return nullptr;
  // The last chunk starting at or before `seq`.
  auto i = std::upper_bound(chunks_.begin(), chunks_.end(), seq,
                            [](std::uint64_t x, const chunk& c) {
                              return x < c.first_seq;
                            });
  --i;
  if (i->count == 0 || seq > i->last_seq())
    return nullptr;
  return &*i;
}

event_batch tail_cache::view(std::uint64_t from, std::uint64_t to) const {
  auto* c = chunk_of(from);
  if (c == nullptr || to < from)
    return {};
  auto first = static_cast<std::size_t>(from - c->first_seq);
  auto last = static_cast<std::size_t>(std::min(to, c->last_seq()) - c->first_seq) + 1;
  return event_batch{c->events, first, last};
}

event_batch tail_cache::read(std::uint64_t from, std::size_t max) const {
  if (max == 0)
    return {};
  return view(from, from + max - 1);
}

const event* tail_cache::find(std::uint64_t seq) const {
  auto* c = chunk_of(seq);
  if (c == nullptr)
    return nullptr;
  return &(*c->events)[seq - c->first_seq];
}

std::uint64_t tail_cache::first_seq() const noexcept {
  for (auto& c : chunks_)
    if (c.count > 0)
      return c.first_seq;
  return 0;
}

std::uint64_t tail_cache::last_seq() const noexcept {
  for (auto i = chunks_.rbegin(); i != chunks_.rend(); ++i)
    if (i->count > 0)
      return i->last_seq();
  return 0;
}

void tail_cache::drop_above(std::uint64_t seq) {
  while (!chunks_.empty() && chunks_.back().first_seq > seq) {
    size_ -= chunks_.back().count;
    chunks_.pop_back();
  }
  if (chunks_.empty())
    return;
  auto& last = chunks_.back();
  auto keep = static_cast<std::size_t>(seq - last.first_seq + 1);
  if (keep < last.count) {
    size_ -= last.count - keep;
    last.count = keep;
    last.open = false;
  }
}

void tail_cache::evict(std::uint64_t evictable_through) {
  while (!chunks_.empty() && size_ - chunks_.front().count >= capacity_
         && chunks_.front().first_seq + chunks_.front().count
              <= evictable_through + 1) {
    size_ -= chunks_.front().count;
    chunks_.pop_front();
  }
}

} // namespace bus::internal
