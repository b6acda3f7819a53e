#include "recording_model.hpp"

#include <stdexcept>

namespace bus::sim {

recording_model::recording_model(read_model_ptr inner, journal_ptr log)
  : inner_(std::move(inner)), journal_(std::move(log)) {
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
    journal_->disturb(name());
    throw std::runtime_error("simulated poison event");
  }
  if (!applied_.insert(e.seq).second)
    journal_->found.push_back({invariant::applied_twice,
                               name() + " applied seq " + std::to_string(e.seq)
                                 + " twice in one instance"});
  else if (e.seq < last_seq_)
    journal_->found.push_back({invariant::out_of_order,
                               name() + " applied seq " + std::to_string(e.seq)
                                 + " after seq " + std::to_string(last_seq_)});
  last_seq_ = std::max(last_seq_, e.seq);
  auto took = inner_->apply(e);
  if (took)
    rec.took_at[e.seq].push_back(journal_->tick());
  return took;
}

void recording_model::reset() {
  // An explicit rebuild: a new epoch may apply every seq again.
  applied_.clear();
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
  result.make = [make, log] {
    return std::make_unique<recording_model>(make(), log);
  };
  return result;
}

} // namespace bus::sim
