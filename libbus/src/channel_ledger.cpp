#include "bus/channel_ledger.hpp"

#include <ostream>

namespace bus {

std::string to_string(delivery_state x) {
  switch (x) {
    case delivery_state::pending:
      return "pending";
    case delivery_state::in_flight:
      return "in_flight";
    case delivery_state::acked:
      return "acked";
    case delivery_state::expired:
      return "expired";
  }
  return "unknown";
}

std::ostream& operator<<(std::ostream& out, delivery_state x) {
  return out << to_string(x);
}

std::uint64_t channel_ledger::add() {
  auto id = next_id_++;
  entries_.emplace(id, entry{});
  pending_.insert(id);
  return id;
}

bool channel_ledger::add_receiver(std::uint64_t r, std::uint32_t credit) {
  return receivers_.emplace(r, receiver{credit == 0 ? 1 : credit, {}}).second;
}

std::vector<std::uint64_t> channel_ledger::remove_receiver(std::uint64_t r) {
  std::vector<std::uint64_t> back;
  auto i = receivers_.find(r);
  if (i == receivers_.end())
    return back;
  for (auto id : i->second.held) {
    auto& e = entries_.at(id);
    e.state = delivery_state::pending;
    e.holder.reset();
    --in_flight_;
    pending_.insert(id);
    back.push_back(id);
  }
  receivers_.erase(i);
  if (last_pick_ == r)
    last_pick_.reset();
  return back;
}

std::optional<std::uint64_t>
channel_ledger::pick(std::optional<std::uint64_t> avoid) const {
  std::optional<std::uint64_t> fallback;
  auto has_room = [](const receiver& x) { return x.held.size() < x.credit; };
  // Round-robin: the receivers after the last pick, then from the start.
  auto start = last_pick_ ? receivers_.upper_bound(*last_pick_) : receivers_.begin();
  for (int pass = 0; pass < 2; ++pass) {
    auto first = pass == 0 ? start : receivers_.begin();
    auto last = pass == 0 ? receivers_.end() : start;
    for (auto i = first; i != last; ++i) {
      if (!has_room(i->second))
        continue;
      if (avoid && i->first == *avoid) {
        fallback = i->first;
        continue;
      }
      return i->first;
    }
  }
  // Only the receiver that timed out has room: it gets the message again
  // rather than nobody.
  return fallback;
}

std::vector<dispatch> channel_ledger::assign() {
  std::vector<dispatch> out;
  for (auto i = pending_.begin(); i != pending_.end();) {
    auto id = *i;
    auto& e = entries_.at(id);
    auto r = pick(e.avoid);
    if (!r)
      break; // no credit anywhere: the rest waits too
    last_pick_ = r;
    receivers_.at(*r).held.insert(id);
    e.state = delivery_state::in_flight;
    e.holder = r;
    if (++e.attempts > 1)
      ++redelivered_;
    ++in_flight_;
    out.push_back(dispatch{id, *r, e.attempts});
    i = pending_.erase(i);
  }
  return out;
}

void channel_ledger::release(entry& e, std::uint64_t id) {
  if (e.state == delivery_state::in_flight) {
    if (auto i = receivers_.find(*e.holder); i != receivers_.end())
      i->second.held.erase(id);
    e.holder.reset();
    --in_flight_;
  } else if (e.state == delivery_state::pending) {
    pending_.erase(id);
  }
}

void channel_ledger::settle(entry& e, std::uint64_t id, delivery_state to) {
  release(e, id);
  e.state = to;
  e.avoid.reset();
  compact();
}

void channel_ledger::compact() {
  while (!entries_.empty()) {
    auto s = entries_.begin()->second.state;
    if (s != delivery_state::acked && s != delivery_state::expired)
      return;
    entries_.erase(entries_.begin());
  }
}

ack_outcome channel_ledger::ack(std::uint64_t id) {
  auto i = entries_.find(id);
  if (i == entries_.end())
    return id < next_id_ && id > 0 ? ack_outcome::already_settled
                                   : ack_outcome::unknown;
  auto& e = i->second;
  if (e.state == delivery_state::acked || e.state == delivery_state::expired)
    return ack_outcome::already_settled;
  settle(e, id, delivery_state::acked);
  ++acked_;
  return ack_outcome::acked;
}

bool channel_ledger::expire_delivery(std::uint64_t id, std::uint32_t attempt) {
  auto i = entries_.find(id);
  if (i == entries_.end())
    return false;
  auto& e = i->second;
  if (e.state != delivery_state::in_flight || e.attempts != attempt)
    return false;
  e.avoid = e.holder;
  release(e, id);
  e.state = delivery_state::pending;
  pending_.insert(id);
  return true;
}

bool channel_ledger::expire(std::uint64_t id) {
  auto i = entries_.find(id);
  if (i == entries_.end())
    return false;
  auto& e = i->second;
  if (e.state == delivery_state::acked || e.state == delivery_state::expired)
    return false;
  settle(e, id, delivery_state::expired);
  ++expired_;
  return true;
}

std::optional<delivery_state> channel_ledger::state_of(std::uint64_t id) const {
  auto i = entries_.find(id);
  if (i == entries_.end())
    return std::nullopt;
  return i->second.state;
}

std::optional<std::uint64_t> channel_ledger::holder_of(std::uint64_t id) const {
  auto i = entries_.find(id);
  if (i == entries_.end())
    return std::nullopt;
  return i->second.holder;
}

bool channel_ledger::has_receiver(std::uint64_t r) const {
  return receivers_.count(r) > 0;
}

} // namespace bus
