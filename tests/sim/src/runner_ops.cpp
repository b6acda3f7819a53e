// The scenario's operator steps: lifecycle requests, blue/green, node and
// bus faults, failed syncs, and healing before the final check.

#include <set>

#include "recording_model.hpp"
#include "runner.hpp"

namespace bus::sim {

void runner::lifecycle() {
  auto model = pick_model();
  // A model that stops on its poison is left alone; one that parks it
  // goes through every lifecycle step with the event parked.
  if (journal_->models[model].poison.remaining < 0
      && spec_of(model).recovery.then == on_poison::stop) {
    run_jobs();
    return;
  }
  auto roll = rng_() % 3;
  if (roll == 0 && options_.enabled(fault::pause) && !paused_[model]) {
    paused_[model] = true;
    ask_supervisor<actors::projector_status>(model, "pause", actors::pause_atom::value,
                                             model);
  } else if (roll == 1 && paused_[model]) {
    paused_[model] = false;
    ask_supervisor<actors::projector_status>(model, "resume",
                                             actors::resume_atom::value, model);
  } else if (roll == 2 && options_.enabled(fault::rebuild)) {
    ask_supervisor<actors::projector_status>(model, "rebuild",
                                             actors::rebuild_atom::value, model);
  } else {
    run_jobs();
  }
}

void runner::blue_green() {
  auto i = rng_() % raw_.size();
  auto& model = raw_[i].name;
  // A blue/green rebuild of a partitioned model is refused (not supported).
  if (!options_.enabled(fault::blue_green) || raw_[i].partitions > 1
      || (journal_->models[model].poison.remaining < 0
          && spec_of(model).recovery.then == on_poison::stop)) {
    run_jobs();
    return;
  }
  // A shadow has the same definition again, and a rollback goes back to
  // it: the fold of the log stays the reference, and the model's acks and
  // queries must stay right throughout. Unless it ever threw: the live
  // projector may hold an event parked (or events behind its key) that the
  // other, replaying, applies; a later history that acks already answered
  // need not name.
  auto effect = journal_->models[model].threw.empty() ? request_effect::keeps_steady
                                                      : request_effect::disturbs;
  auto roll = rng_() % 4;
  if (roll < 2) {
    ask_supervisor_as<actors::projector_status>(
      effect, model, "blue/green shadow of", actors::shadow_atom::value,
      recorded(raw_[i], journal_),
      roll == 0 ? actors::shadow_wait::live : actors::shadow_wait::start);
  } else if (roll == 2) {
    ask_supervisor_as<actors::projector_status>(effect, model, "blue/green rollback of",
                                                actors::rollback_atom::value, model);
  } else {
    ask_supervisor<actors::projector_status>(model, "blue/green discard of",
                                             actors::discard_atom::value, model);
  }
}

void runner::node_fault() {
  if (!options_.enabled(fault::node_loss) || !world_->has_node()) {
    run_jobs();
    return;
  }
  if (world_->node_phase() == phase::up) {
    note(world_->kill_node() ? "node-b crashes"
                             : "node-b crash deferred: it is still starting");
  } else {
    note("node-b starts again (fresh projectors)");
    world_->start_node();
  }
}

void runner::bus_fault() {
  if (!options_.enabled(fault::bus_restart)) {
    run_jobs();
    return;
  }
  if (world_->bus_phase() == phase::up) {
    note("the bus crashes (its log survives)");
    world_->kill_bus();
  } else {
    note("the bus restarts on the same log; the local supervisor rebinds");
    world_->restart_bus();
  }
}

void runner::sync_fault() {
  if (!options_.enabled(fault::sync_failure) || !world_->log().holds_appends()) {
    run_jobs();
    return;
  }
  note("the log's next sync fails");
  world_->log().fail_next_sync();
}

void runner::heal(bool resume_paused) {
  if (world_->bus_phase() == phase::down) {
    note("the bus restarts on the same log; the local supervisor rebinds");
    world_->restart_bus();
  }
  if (world_->has_node() && world_->node_phase() == phase::down) {
    note("node-b starts again (fresh projectors)");
    world_->start_node();
  }
  if (!resume_paused)
    return;
  // Requests from different clients may arrive in any order: let the
  // scenario's own pauses land before resuming, or a late pause would undo
  // the resume.
  world_->settle();
  // A pause and a later resume come from different clients and may arrive
  // in either order: the model may be paused though the scenario resumed
  // it. Every live projector that is paused now is resumed.
  std::set<std::string> paused_now;
  for (auto& v : world_->projectors())
    if (v.role == "live")
      if (auto* st = world_->state_of(v.handle))
        if (st->phase == actors::projector_phase::paused)
          paused_now.insert(v.model);
  for (auto& [model, paused] : paused_)
    if (paused || paused_now.count(model) != 0) {
      paused = false;
      paused_now.erase(model);
      ask_supervisor<actors::projector_status>(model, "resume",
                                               actors::resume_atom::value, model);
    }
  for (auto& model : paused_now)
    ask_supervisor<actors::projector_status>(model, "resume",
                                             actors::resume_atom::value, model);
}

} // namespace bus::sim
