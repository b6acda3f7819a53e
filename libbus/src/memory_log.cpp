#include "bus/memory_log.hpp"

#include <algorithm>
#include <array>
#include <functional>

#include "bus/string_keys.hpp"
#include "internal/id_index.hpp"
#include "internal/read_cache.hpp"
#include "internal/record_store.hpp"
#include "internal/tail_cache.hpp"

namespace bus {

namespace {

std::uint64_t hash_id(std::string_view id) {
  return hash_string(id);
}

} // namespace

memory_log::memory_log(std::size_t tail_events)
  : records_(std::make_unique<internal::record_store>()),
    tail_(std::make_unique<internal::tail_cache>(tail_events)),
    reads_(std::make_unique<internal::read_cache>(
      internal::read_cache_slots, internal::tail_cache::default_chunk_events)),
    ids_(std::make_unique<internal::id_index>()) {
  // nop
}

memory_log::~memory_log() {
  // nop
}

std::string_view memory_log::id_at(std::uint64_t seq) const {
  if (auto* e = tail_->find(seq))
    return e->id;
  return records_->id(seq);
}

std::optional<std::uint64_t> memory_log::find(std::string_view id) const {
  auto seq = ids_->find(hash_id(id), [&](std::uint64_t s) { return id_at(s) == id; });
  if (seq == 0)
    return std::nullopt;
  return seq;
}

event_batch memory_log::read(std::uint64_t from, std::size_t max) const {
  if (from == 0 || from > head_ || max == 0)
    return {};
  if (auto cached = tail_->read(from, max); !cached.empty())
    return cached;
  // Older than the tail: decoded from the records, up to where it starts.
  auto end = tail_->first_seq() > 0 ? tail_->first_seq() : head_ + 1;
  if (max < internal::min_shared_read) // a point read decodes only itself
    return event_batch{records_->read(
      from, static_cast<std::size_t>(std::min<std::uint64_t>(max, end - from)))};
  if (auto cached = reads_->read(from, max); !cached.empty())
    return cached;
  auto first = reads_->stretch_of(from);
  auto last = std::min(reads_->stretch_end(from), end);
  return reads_->add(
    first, records_->read(first, static_cast<std::size_t>(last - first)), from, max);
}

append_result memory_log::do_append(std::vector<event> batch) {
  if (batch.size() > internal::id_index::max_seq - head_)
    throw storage_error("the memory log is full: it holds " + std::to_string(head_)
                        + " events and takes at most "
                        + std::to_string(internal::id_index::max_seq));
  append_result result;
  result.outcomes.reserve(batch.size());
  auto now = now_ns();
  auto first_new = head_ + 1;
  // The whole batch goes to one chunk of the tail: one view of it.
  tail_->prepare(first_new, batch.size());
  // Each id's slot is asked for `ahead` events before it is looked up, so
  // the lookups overlap their waits for memory. The hashes in between wait
  // in a ring, not in a buffer as long as the batch.
  constexpr std::size_t ahead = 16;
  std::array<std::uint64_t, ahead> hashes;
  auto n = batch.size();
  for (std::size_t i = 0; i < std::min(ahead, n); ++i) {
    hashes[i] = hash_id(batch[i].id);
    ids_->prefetch(hashes[i]);
  }
  for (std::size_t i = 0; i < n; ++i) {
    auto& e = batch[i];
    auto hash = hashes[i % ahead];
    if (i + ahead < n) {
      hashes[i % ahead] = hash_id(batch[i + ahead].id);
      ids_->prefetch(hashes[i % ahead]);
    }
    // Events appended earlier in this batch are in the tail already.
    auto same = [&](std::uint64_t seq) { return id_at(seq) == e.id; };
    if (auto seq = ids_->insert(hash, head_ + 1, same); seq != 0) {
      result.outcomes.push_back({e.id, seq, true});
      continue;
    }
    e.seq = ++head_;
    if (e.timestamp == 0)
      e.timestamp = now;
    result.outcomes.push_back({e.id, head_, false});
    records_->append(e);
    tail_->push(std::move(e));
  }
  if (head_ >= first_new)
    result.appended = tail_->view(first_new, head_);
  tail_->evict(head_);
  return result;
}

} // namespace bus
