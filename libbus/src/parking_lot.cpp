#include "bus/parking_lot.hpp"

#include "bus/errc.hpp"

namespace bus {

namespace {

caf::error not_parked(std::uint64_t seq) {
  return make_error(errc::not_parked, "no parked event has seq " + std::to_string(seq));
}

} // namespace

parking_lot::parking_lot(key_order order) : order_(order) {
  // nop
}

bool parking_lot::blocks(std::string_view key) const {
  return order_ == key_order::per_key && by_key_.find(key) != by_key_.end();
}

std::optional<std::uint64_t> parking_lot::first_of(std::string_view key) const {
  if (auto i = by_key_.find(key); i != by_key_.end())
    return *i->second.begin();
  return std::nullopt;
}

void parking_lot::changed(std::uint64_t seq) {
  if (tracking_)
    changes_.push_back(seq);
}

bool parking_lot::park(parked_event x) {
  auto seq = x.seq();
  if (entries_.count(seq) > 0)
    return false;
  if (x.key) {
    // Keys are kept under either order, so that list() can show them and
    // a lot reopened under per_key blocks what it holds.
    by_key_[*x.key].insert(seq);
  }
  entries_.emplace(seq, std::move(x));
  changed(seq);
  return true;
}

bool parking_lot::park_behind(const event& e, std::string key, std::int64_t parked_at) {
  auto first = first_of(key);
  if (!first)
    return false;
  parked_event x;
  x.event = e;
  x.key = std::move(key);
  x.reason = park_reason::behind;
  x.behind = *first;
  x.parked_at = parked_at;
  return park(std::move(x));
}

const parked_event* parking_lot::find(std::uint64_t seq) const {
  auto i = entries_.find(seq);
  return i != entries_.end() ? &i->second : nullptr;
}

std::vector<parked_event> parking_lot::list() const {
  std::vector<parked_event> result;
  result.reserve(entries_.size());
  for (auto& [seq, x] : entries_)
    result.push_back(x);
  return result;
}

parked_event parking_lot::remove(std::map<std::uint64_t, parked_event>::iterator i) {
  auto seq = i->first;
  auto x = std::move(entries_.extract(i).mapped());
  if (x.key) {
    auto k = by_key_.find(*x.key);
    k->second.erase(seq);
    if (k->second.empty())
      by_key_.erase(k);
  }
  changed(seq);
  return x;
}

caf::expected<std::vector<parked_event>> parking_lot::take(std::uint64_t seq) {
  auto i = entries_.find(seq);
  if (i == entries_.end())
    return not_parked(seq);
  std::vector<parked_event> result;
  auto& key = i->second.key;
  if (order_ != key_order::per_key || !key) {
    result.push_back(remove(i));
    return result;
  }
  auto& seqs = by_key_.find(*key)->second;
  if (*seqs.begin() != seq)
    return make_error(errc::precondition_failed,
                      "seq " + std::to_string(seq) + " waits behind seq "
                        + std::to_string(*seqs.begin()) + " of key '" + *key
                        + "': retry or discard that one first");
  // The key's seqs are this one and those parked behind it; copied, as
  // removing the last one drops the set.
  auto all = std::vector<std::uint64_t>(seqs.begin(), seqs.end());
  for (auto s : all)
    result.push_back(remove(entries_.find(s)));
  return result;
}

std::vector<parked_event> parking_lot::take_all() {
  std::vector<parked_event> result;
  result.reserve(entries_.size());
  for (auto& [seq, x] : entries_) {
    result.push_back(std::move(x));
    changed(seq);
  }
  entries_.clear();
  by_key_.clear();
  return result;
}

caf::expected<parked_event> parking_lot::discard(std::uint64_t seq) {
  auto i = entries_.find(seq);
  if (i == entries_.end())
    return not_parked(seq);
  return remove(i);
}

std::size_t parking_lot::discard_all() {
  return take_all().size();
}

void parking_lot::restore(std::vector<parked_event> xs) {
  entries_.clear();
  by_key_.clear();
  auto tracking = tracking_;
  tracking_ = false; // what a store loaded is stored already
  for (auto& x : xs)
    park(std::move(x));
  tracking_ = tracking;
}

void parking_lot::clear() noexcept {
  entries_.clear();
  by_key_.clear();
  changes_.clear();
}

void parking_lot::take_changes(std::vector<std::uint64_t>& out) {
  if (out.empty())
    out.swap(changes_);
  else
    out.insert(out.end(), changes_.begin(), changes_.end());
  changes_.clear();
}

} // namespace bus
