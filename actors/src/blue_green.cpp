#include "internal/blue_green.hpp"
#include "internal/blue_green_switch.hpp"

#include <chrono>
#include <exception>
#include <memory>

#include <caf/all.hpp>

#include "bus/errc.hpp"
#include "bus/log.hpp"
#include "internal/partitioned.hpp"
#include "internal/projector_state.hpp"
#include "internal/supervisor_await.hpp"

namespace bus::internal {

using namespace actors;

namespace {

using slot = supervisor_state::slot;

caf::expected<std::size_t> slot_of(supervisor_ptr self, const std::string& model) {
  auto& slots = self->state.slots;
  for (std::size_t i = 0; i < slots.size(); ++i)
    if (slots[i].spec.name == model)
      return i;
  // A partitioned model has slots for its partitions only, and is never
  // rebuilt blue/green: a model with nothing to roll back or discard, not
  // an unknown one.
  if (auto n = partitions_of(self->state, model))
    return make_error(errc::precondition_failed,
                      "'" + model + "' runs as " + std::to_string(n)
                        + " partitions, which are never rebuilt blue/green: it has no "
                          "shadow and no previous projector");
  return make_error(errc::no_such_model, "no read model named '" + model + "'");
}

caf::error precondition(std::string text) {
  return make_error(errc::precondition_failed, std::move(text));
}

// Makes one model from `spec` to check it before any projector runs it, so
// that a bad definition is an error to the request, not a failing shadow.
caf::error check_spec(const model_spec& spec) {
  try {
    auto model = spec.make ? spec.make() : nullptr;
    if (!model)
      return make_error(errc::invalid_config,
                        "read model '" + spec.name + "': factory made none");
    if (model->name() != spec.name)
      return make_error(errc::invalid_config, "the new definition's model is named '"
                                                + model->name() + "', not '" + spec.name
                                                + "'");
  } catch (const std::exception& ex) {
    return make_error(errc::invalid_config,
                      "read model '" + spec.name + "' failed to start: " + ex.what());
  }
  return caf::none;
}

void spawn_shadow(supervisor_ptr self, std::size_t index) {
  auto& st = self->state;
  auto& sh = *st.slots[index].shadow;
  auto options = st.options;
  options.shadow = true;
  options.owner = self->address();
  sh.handle = self->spawn(projector_impl, st.bus, sh.spec, options);
  self->monitor(sh.handle);
  sh.state = model_state::catching_up;
  // A shadow answers ready once it has caught up with the log and runs live.
  self->request(sh.handle, caf::infinite, ready_atom::value)
    .then(
      [self, index, h = sh.handle](projector_status&) {
        auto& s = self->state.slots[index];
        if (s.shadow && s.shadow->handle == h
            && s.shadow->state == model_state::catching_up)
          begin_switch(self, index, h);
      },
      [](caf::error&) {
        // nop: its down message reports the failure
      });
}

// Restarts a failed shadow after a backoff, or gives up on it; true when it
// stays down.
bool shadow_failed(supervisor_ptr self, std::size_t index, const caf::error& reason) {
  auto& st = self->state;
  auto& s = st.slots[index];
  auto& sh = *s.shadow;
  sh.last_error = describe(reason);
  auto now = self->clock().now();
  while (!sh.recent.empty() && now - sh.recent.front() > st.policy.restart_window)
    sh.recent.pop_front();
  if (sh.recent.size() >= st.policy.max_restarts) {
    sh.state = model_state::failed;
    BUS_LOG(log_level::error, "supervisor",
            "the shadow of read model '"
              << s.spec.name << "' stays down after " << sh.restarts
              << " restarts; the live projector goes on: " << sh.last_error);
    give_up(s, make_error(errc::model_unavailable, "the shadow of '" + s.spec.name
                                                     + "' failed: " + sh.last_error));
    return true;
  }
  auto delay = backoff_delay(st.policy, sh.recent.size());
  sh.recent.push_back(now);
  sh.state = model_state::restarting;
  sh.generation = ++s.shadow_generations;
  BUS_LOG(log_level::warning, "supervisor",
          "the shadow of read model '"
            << s.spec.name << "' failed (" << sh.last_error << "); restarting in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(delay).count()
            << " ms");
  self->delayed_send(self, delay, restart_atom::value, shadow_atom::value,
                     static_cast<std::uint64_t>(index), sh.generation);
  return false;
}

projector_status stopped_status(const std::string& model, model_role role) {
  projector_status result;
  result.model = model;
  result.state = model_state::stopped;
  result.role = role;
  return result;
}

} // namespace

caf::result<projector_status> start_shadow(supervisor_ptr self, model_spec spec,
                                           shadow_wait wait) {
  auto index = slot_of(self, spec.name);
  if (!index)
    return index.error();
  auto& s = self->state.slots[*index];
  if (s.shadow)
    return precondition("a blue/green rebuild of '" + s.spec.name
                        + "' is under way (shadow " + to_string(s.shadow->state)
                        + "): discard it first");
  if (s.previous || s.rolling_back)
    return precondition("'" + s.spec.name
                        + "' keeps the projector of its last switch: roll back "
                          "or discard it first");
  if (auto err = check_spec(spec))
    return err;
  // Assigned, not emplace()d: clang finds the nested slot type incomplete
  // for optional's constructibility check, gcc does not.
  supervisor_state::shadow_slot shadow;
  shadow.spec = std::move(spec);
  s.shadow = std::move(shadow);
  spawn_shadow(self, *index);
  if (wait == shadow_wait::live) {
    auto rp = self->make_response_promise<projector_status>();
    s.shadow->waiting.push_back(rp);
    return rp;
  }
  projector_status result;
  result.model = s.spec.name;
  result.state = s.shadow->state;
  result.role = model_role::shadow;
  return result;
}

caf::result<projector_status> roll_back(supervisor_ptr self, const std::string& model) {
  auto index = slot_of(self, model);
  if (!index)
    return index.error();
  auto& s = self->state.slots[*index];
  if (s.rolling_back)
    return precondition("a rollback of '" + model + "' is under way");
  if (!s.restarting.empty())
    return precondition("a restart of '" + model + "' is under way: roll back after");
  if (!s.previous)
    return precondition("'" + model + "' has no previous projector to roll back to"
                        + std::string{s.shadow ? " (its shadow has not switched yet:"
                                                 " discard it instead)"
                                               : ""});
  s.rolling_back = true;
  auto promise = self->make_response_promise<projector_status>();
  auto previous = s.previous;
  auto current = s.handle;
  auto i = *index;
  // The same hand-over as a switch, the other way round; the current
  // projector answers queries until the previous one has caught up.
  auto promote = [self, i, previous, current, promise] {
    self->request(previous, caf::infinite, promote_atom::value)
      .then(
        [self, i, previous, current, promise](projector_status&) {
          rollback_caught_up(self, i, previous, current, promise);
        },
        [self, i, current, promise](caf::error& err) mutable {
          self->state.slots[i].rolling_back = false;
          // It stays live (it owns the snapshots again), and paused if the
          // operator paused it.
          reinstate(self, i, current,
                    [promise, err]() mutable { promise.deliver(err); });
        });
  };
  if (!current)
    promote();
  else
    self->request(current, caf::infinite, demote_atom::value)
      .then([promote](projector_status&) { promote(); },
            [promote](caf::error&) { promote(); });
  return promise;
}

caf::result<projector_status> discard(supervisor_ptr self, const std::string& model) {
  auto index = slot_of(self, model);
  if (!index)
    return index.error();
  auto& s = self->state.slots[*index];
  if (s.rolling_back)
    return precondition("a rollback of '" + model + "' is under way");
  if (s.previous) {
    self->send_exit(s.previous, caf::exit_reason::user_shutdown);
    s.previous = nullptr;
    s.previous_spec = {};
    return stopped_status(model, model_role::previous);
  }
  if (s.shadow) {
    if (s.shadow->state == model_state::switching)
      return precondition("the shadow of '" + model
                          + "' is switching in now: roll it back once it is live");
    if (s.shadow->handle)
      self->send_exit(s.shadow->handle, caf::exit_reason::user_shutdown);
    give_up(s, precondition("the blue/green rebuild of '" + model + "' was discarded"));
    s.shadow.reset();
    return stopped_status(model, model_role::shadow);
  }
  return precondition("'" + model
                      + "' has no shadow and no previous projector "
                        "to discard");
}

void restart_shadow(supervisor_ptr self, std::uint64_t index,
                    std::uint64_t generation) {
  auto& slots = self->state.slots;
  if (index >= slots.size())
    return;
  auto& s = slots[index];
  if (!s.shadow || s.shadow->generation != generation
      || s.shadow->state != model_state::restarting)
    return;
  ++s.shadow->restarts;
  spawn_shadow(self, index);
}

bool blue_green_down(supervisor_ptr self, const caf::down_msg& dm) {
  auto& slots = self->state.slots;
  for (std::size_t i = 0; i < slots.size(); ++i) {
    auto& s = slots[i];
    if (s.previous && s.previous.address() == dm.source) {
      BUS_LOG(log_level::warning, "supervisor",
              "the previous projector of read model '"
                << s.spec.name << "' went down: nothing to roll back to");
      s.previous = nullptr;
      s.previous_spec = {};
      return true;
    }
    if (!s.shadow || !s.shadow->handle || s.shadow->handle.address() != dm.source)
      continue;
    auto& sh = *s.shadow;
    sh.handle = nullptr;
    if (sh.state == model_state::switching)
      // The live projector was demoted for the hand-over: it stays live,
      // and paused if the operator paused it.
      reinstate(self, i, s.handle);
    if (!dm.reason || dm.reason == caf::exit_reason::user_shutdown) {
      give_up(s, make_error(errc::model_unavailable,
                            "the shadow of '" + s.spec.name + "' stopped"));
      s.shadow.reset();
      return true;
    }
    shadow_failed(self, i, dm.reason);
    return true;
  }
  return false;
}

caf::error refuse_in_hand_over(const supervisor_state& st, const std::string& model,
                               const char* what) {
  for (auto& s : st.slots)
    if (s.spec.name == model
        && (s.rolling_back || (s.shadow && s.shadow->state == model_state::switching)))
      return precondition("read model '" + model
                          + "' is in a blue/green hand-over: " + what + " it after");
  return caf::none;
}

std::vector<blue_green_entry> blue_green_entries(const supervisor_state& st) {
  std::vector<blue_green_entry> result;
  for (auto& s : st.slots) {
    if (s.shadow) {
      blue_green_entry x;
      x.handle = s.shadow->handle;
      x.status.model = s.spec.name;
      x.status.role = model_role::shadow;
      x.status.state = s.shadow->state;
      x.status.restarts = s.shadow->restarts;
      x.status.last_error = s.shadow->last_error;
      result.push_back(std::move(x));
    }
    if (s.previous) {
      blue_green_entry x;
      x.handle = s.previous;
      x.status.model = s.spec.name;
      x.status.role = model_role::previous;
      x.status.state = model_state::paused;
      result.push_back(std::move(x));
    }
  }
  return result;
}

void stop_blue_green(supervisor_ptr self, const caf::error& reason) {
  for (auto& s : self->state.slots) {
    if (s.shadow && s.shadow->handle)
      self->send_exit(s.shadow->handle, reason);
    if (s.previous)
      self->send_exit(s.previous, reason);
  }
}

} // namespace bus::internal
