#include "recording_model.hpp"

#include <stdexcept>

namespace bus::sim {

recording_model::recording_model(read_model_ptr inner, journal_ptr log,
                                 key_order order)
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
    journal_->found.push_back({invariant::applied_twice,
                               name() + " applied seq " + std::to_string(e.seq)
                                 + " twice in one instance"});
  else if (e.seq < last_seq_ && !journal_->retrying)
    journal_->found.push_back({invariant::out_of_order,
                               name() + " applied seq " + std::to_string(e.seq)
                                 + " after seq " + std::to_string(last_seq_)});
  if (key_order_ == key_order::per_key)
    if (auto key = inner_->key_of(e)) {
      auto& last = last_of_key_[*key];
      if (e.seq < last)
        journal_->found.push_back({invariant::out_of_order,
                                   name() + " applied seq " + std::to_string(e.seq)
                                     + " of key " + *key + " after seq "
                                     + std::to_string(last) + " of that key"});
      last = std::max(last, e.seq);
    }
  last_seq_ = std::max(last_seq_, e.seq);
  order_.push_back(e.seq);
  auto took = inner_->apply(e);
  if (took)
    (journal_->retrying ? rec.retried_at : rec.took_at)[e.seq].push_back(journal_->tick());
  return took;
}

void recording_model::reset() {
  // An explicit rebuild: a new epoch may apply every seq again.
  applied_.clear();
  order_.clear();
  last_of_key_.clear();
  last_seq_ = 0;
  inner_->reset();
}

bool recording_model::restore(const boost::json::value& state) {
  // The simulator runs without snapshots; a restore would hide applies.
  (void) state;
  return false;
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

} // namespace bus::sim
