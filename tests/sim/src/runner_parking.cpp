// The scenario's steps on parked events: an operator retries them (after
// healing the poison, or not: a retry of a still poisoned event parks it
// again), discards them, or restarts a model; and the final heal, after
// which no event may stay parked and every model is the full fold of the
// log but for the events it discarded.

#include <algorithm>

#include "runner.hpp"

namespace bus::sim {

const model_spec& runner::spec_of(const std::string& model) const {
  if (auto i = partition_specs_.find(model); i != partition_specs_.end())
    return i->second;
  return *std::find_if(raw_.begin(), raw_.end(),
                       [&](const model_spec& s) { return s.name == model; });
}

bool runner::poisoned_slot(const std::string& slot, const model_spec& spec) {
  auto pinned = journal_->models[spec.name].poison.pinned;
  if (spec.partitions <= 1 || pinned == 0)
    return true;
  auto batch = world_->log().read(pinned, 1);
  return batch.empty() || holds(slot, *spec_of(slot).make(), batch.front());
}

bool runner::stopped_for_good(const std::string& model) {
  auto& rec = journal_->models[model];
  auto& plan = rec.poison;
  // Only once it has met its poison: a paused model, or one that had passed
  // the pinned seq before the poison was planted, never throws (the fold
  // check catches a model that skipped the event instead).
  return plan.remaining < 0 && plan.pinned != 0 && rec.threw.count(plan.pinned) > 0
         && spec_of(model).recovery.then == on_poison::stop;
}

void runner::parked_step() {
  auto model = pick_model();
  auto& plan = journal_->models[model].poison;
  bool stops = spec_of(model).recovery.then == on_poison::stop;
  // Parked events are a partition's: the requests name one.
  auto slots = slots_of(spec_of(model));
  auto slot = slots.size() == 1 ? model : slots[rng_() % slots.size()];
  // A seq to name: one parked in the live projector now (by the time the
  // request arrives it may be gone: answered with not_parked), or 0 (all).
  std::vector<std::uint64_t> parked;
  for (auto& v : world_->projectors())
    if (v.model == slot && v.role == "live")
      if (auto* st = world_->state_of(v.handle))
        for (auto& x : st->parked.list())
          parked.push_back(x.event.seq);
  std::uint64_t seq = 0;
  if (!parked.empty() && rng_() % 2 == 0)
    seq = parked[rng_() % parked.size()];
  auto roll = rng_() % 3;
  if (roll == 0 && plan.remaining < 0 && !stops) {
    // The model is fixed. A model that stops is healed only at the end: a
    // failed one would stay failed with nothing to show why.
    note("heal the poison of " + model);
    plan = poison_plan{};
  }
  if (roll < 2)
    ask_supervisor<actors::parked_list>(
      slot, "retry parked seq " + std::to_string(seq) + " of",
      actors::unpark_atom::value, slot, seq);
  else
    ask_supervisor<actors::parked_list>(
      slot, "discard parked seq " + std::to_string(seq) + " of",
      actors::drop_parked_atom::value, slot, seq);
}

void runner::operator_restart() {
  auto model = pick_model();
  // A failed model restarted while its poison lasts fails again: it is
  // answered with the error, and stays failed.
  ask_supervisor<actors::projector_status>(model, "operator restart of",
                                           actors::restart_atom::value, model);
}

void runner::heal_parking() {
  // Every poison is healed; a model failed for it is brought back by its
  // cool-down (when the seed has one, half the time) or by an operator.
  bool failed = false;
  for (auto& spec : raw_) {
    auto& plan = journal_->models[spec.name].poison;
    if (plan.remaining != 0 || plan.pinned != 0)
      note("heal the poison of " + spec.name);
    plan = poison_plan{};
    for (auto& slot : slots_of(spec))
      failed = failed || world_->slot_state(slot) == "failed";
  }
  poisoned_always_ = false;
  if (failed && cooldown_ && rng_() % 2 == 0) {
    note("wait for the cool-down of the failed models");
    if (!world_->settle(400, true)) {
      fail(invariant::liveness, "a failed model did not come back after its cool-down");
      stop_ = true;
      return;
    }
  }
  for (auto& spec : raw_)
    for (auto& slot : slots_of(spec))
      if (world_->slot_state(slot) == "failed")
        ask_supervisor<actors::projector_status>(slot, "operator restart of",
                                                 actors::restart_atom::value, slot);
  if (!world_->settle()) {
    fail(invariant::liveness, "the system did not come to rest after the restarts");
    stop_ = true;
    return;
  }
  for (auto& spec : raw_)
    for (auto& slot : slots_of(spec))
      ask_supervisor<actors::parked_list>(slot, "retry every parked event of",
                                          actors::unpark_atom::value, slot,
                                          std::uint64_t{0});
}

} // namespace bus::sim
