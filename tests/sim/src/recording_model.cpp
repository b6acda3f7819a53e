#include "recording_model.hpp"

#include "bus/forwarding_model.hpp"

#include <stdexcept>

#include <boost/json/serialize.hpp>

namespace bus::sim {

recording_model::recording_model(read_model_ptr inner, journal_ptr log, key_order order)
  : inner_(std::move(inner)), journal_(std::move(log)), key_order_(order) {
  ++journal_->models[inner_->name()].instances;
}

bool recording_model::apply(const event& e) {
  auto& rec = journal_->models[name()];
  auto& plan = rec.poison;
  if (plan.remaining != 0
      && (plan.pinned == 0 ? e.seq >= plan.from : e.seq == plan.pinned)) {
    plan.pinned = e.seq;
    if (plan.remaining > 0)
      --plan.remaining;
    rec.threw.insert(e.seq);
    journal_->disturb(name());
    throw std::runtime_error("simulated poison event");
  }
  if (!applied_.insert(e.seq).second)
    journal_->found.push_back(
      {invariant::applied_twice,
       name() + " applied seq " + std::to_string(e.seq) + " twice in one instance"});
  else if (e.seq < last_seq_ && !journal_->retrying)
    journal_->found.push_back(
      {invariant::out_of_order, name() + " applied seq " + std::to_string(e.seq)
                                  + " after seq " + std::to_string(last_seq_)});
  if (key_order_ == key_order::per_key)
    if (auto key = inner_->key_of(e)) {
      auto& last = last_of_key_[*key];
      if (e.seq < last)
        journal_->found.push_back(
          {invariant::out_of_order, name() + " applied seq " + std::to_string(e.seq)
                                      + " of key " + *key + " after seq "
                                      + std::to_string(last) + " of that key"});
      last = std::max(last, e.seq);
    }
  last_seq_ = std::max(last_seq_, e.seq);
  order_.push_back(e.seq);
  order_changed_ = true;
  auto took = inner_->apply(e);
  if (took)
    (journal_->retrying ? rec.retried_at : rec.took_at)[e.seq].push_back(
      journal_->tick());
  return took;
}

void recording_model::reset() {
  // An explicit rebuild: a new epoch may apply every seq again.
  applied_.clear();
  order_.clear();
  last_of_key_.clear();
  last_seq_ = 0;
  discarded_.clear();
  order_changed_ = discarded_changed_ = false;
  inner_->reset();
}

namespace {

// The keys of the extra rows: no model of the simulator has them.
constexpr std::string_view applied_key{"\0applied", 8};
constexpr std::string_view discarded_key{"\0discarded", 10};
constexpr std::string_view state_key{"\0state", 6};

boost::json::array seqs_json(const std::vector<std::uint64_t>& xs) {
  boost::json::array result;
  for (auto x : xs)
    result.push_back(x);
  return result;
}

std::vector<std::uint64_t> seqs_of(const boost::json::value* x) {
  std::vector<std::uint64_t> result;
  if (auto* xs = x ? x->if_array() : nullptr)
    for (auto& seq : *xs)
      result.push_back(seq.to_number<std::uint64_t>());
  return result;
}

} // namespace

boost::json::value recording_model::extra(std::string_view key) const {
  if (key == applied_key)
    return seqs_json(order_);
  return seqs_json({discarded_.begin(), discarded_.end()});
}

std::optional<boost::json::value> recording_model::query(std::string_view key) const {
  if (key == applied_key || key == discarded_key)
    return extra(key);
  return inner_->query(key);
}

boost::json::value recording_model::snapshot() const {
  auto inner = inner_->snapshot();
  boost::json::object result;
  if (tracks_ && inner.is_object())
    result = std::move(inner.get_object()); // rows: the extra ones beside
  else
    result[state_key] = std::move(inner);
  result[applied_key] = extra(applied_key);
  result[discarded_key] = extra(discarded_key);
  return result;
}

bool recording_model::restore(const boost::json::value& state) {
  reset();
  auto* all = state.if_object();
  if (all == nullptr)
    return false;
  auto order = seqs_of(all->if_contains(applied_key));
  auto discarded = seqs_of(all->if_contains(discarded_key));
  bool restored;
  if (auto* wrapped = all->if_contains(state_key)) {
    restored = inner_->restore(*wrapped);
  } else {
    auto rows = *all;
    rows.erase(applied_key);
    rows.erase(discarded_key);
    restored = inner_->restore(rows);
  }
  if (!restored) {
    reset();
    return false;
  }
  // Applied before: applying one again is applying it twice. Order is
  // checked from here on.
  order_ = std::move(order);
  applied_.insert(order_.begin(), order_.end());
  discarded_.insert(discarded.begin(), discarded.end());
  return true;
}

bool recording_model::restore_row(std::string_view key,
                                  const boost::json::value& value) {
  // Row by row, as a node's models restore (after reset()): the extra rows
  // come in any order among the model's own.
  if (key == applied_key) {
    order_ = seqs_of(&value);
    applied_.insert(order_.begin(), order_.end());
    return true;
  }
  if (key == discarded_key) {
    auto discarded = seqs_of(&value);
    discarded_.insert(discarded.begin(), discarded.end());
    return true;
  }
  return inner_->restore_row(key, value);
}

bool recording_model::track_changes() {
  tracks_ = inner_->track_changes();
  return tracks_;
}

void recording_model::take_changes(std::vector<std::string>& out) {
  inner_->take_changes(out);
  if (order_changed_)
    out.emplace_back(applied_key);
  if (discarded_changed_)
    out.emplace_back(discarded_key);
  order_changed_ = discarded_changed_ = false;
}

bool recording_model::write_value(std::string_view key, std::string& out) const {
  if (key == applied_key || key == discarded_key) {
    out += boost::json::serialize(extra(key));
    return true;
  }
  return inner_->write_value(key, out);
}

bool recording_model::holds(std::string_view key) const {
  return key == applied_key || key == discarded_key || inner_->holds(key);
}

void recording_model::discard(const std::set<std::uint64_t>& seqs) {
  discarded_.insert(seqs.begin(), seqs.end());
  discarded_changed_ = discarded_changed_ || !seqs.empty();
}

model_spec recorded(const model_spec& spec, journal_ptr log) {
  auto result = spec;
  auto make = spec.make;
  auto order = spec.recovery.order;
  result.make = [make, log, order] {
    return std::make_unique<recording_model>(make(), log, order);
  };
  return result;
}

const recording_model* recording_of(const read_model& model) {
  const read_model* m = &model;
  while (m != nullptr) {
    if (auto* rec = dynamic_cast<const recording_model*>(m))
      return rec;
    auto* outer = dynamic_cast<const forwarding_model*>(m);
    m = outer != nullptr ? &outer->inner() : nullptr;
  }
  return nullptr;
}

recording_model* recording_of(read_model& model) {
  return const_cast<recording_model*>(
    recording_of(static_cast<const read_model&>(model)));
}

} // namespace bus::sim
