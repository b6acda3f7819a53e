#include "internal/restarts.hpp"

#include <caf/all.hpp>

#include "bus/errc.hpp"
#include "bus/log.hpp"
#include "bus/partitions.hpp"
#include "internal/blue_green.hpp"
#include "internal/intent_not_kept.hpp"
#include "internal/millis.hpp"
#include "internal/projector_state.hpp"
#include "internal/shared_pauses.hpp"
#include "internal/supervisor_await.hpp"

namespace bus::internal {

using namespace actors;

namespace {

using slot = supervisor_state::slot;

std::string describe(const caf::error& reason) {
  if (code_of(reason) != errc::none)
    return context_of(reason);
  return caf::to_string(reason);
}

// Leaves slot `index` failed; with a cool-down, a timer retries it then.
void open_circuit(supervisor_ptr self, std::size_t index) {
  auto& st = self->state;
  auto& s = st.slots[index];
  s.state = model_state::failed;
  s.trial = false;
  ++s.generation; // a timer still pending is void
  if (st.policy.cooldown.count() == 0) {
    BUS_LOG(log_level::error, "supervisor",
            "read model '" << s.spec.name << "' stays down after " << s.restarts
                           << " restarts: " << s.last_error);
    return;
  }
  auto delay = cooldown_delay(st.policy, s.cooldowns);
  ++s.cooldowns;
  BUS_LOG(log_level::error, "supervisor",
          "read model '" << s.spec.name << "' failed after " << s.restarts
                         << " restarts (" << s.last_error << "); trying it again in "
                         << millis(delay) << " ms");
  self->delayed_send(self, delay, restart_atom::value,
                     static_cast<std::uint64_t>(index), s.generation);
}

using restart_waiters = std::vector<caf::typed_response_promise<projector_status>>;

// Answers `waiting` once `asked`, slot `index`'s projector, has caught up,
// or with why it went down first. An operator's restart that came meanwhile
// stopped it: then they are answered by the projector that restart starts.
void answer_from(supervisor_ptr self, std::size_t index, projector_actor asked,
                 restart_waiters waiting) {
  self->request(asked, caf::infinite, ready_atom::value)
    .then(
      [self, index, waiting](projector_status& ps) mutable {
        auto& current = self->state.slots[index];
        ps.restarts = current.restarts;
        ps.last_error = current.last_error;
        for (auto& rp : waiting)
          rp.deliver(ps);
      },
      [self, index, asked, waiting](caf::error& err) mutable {
        auto& current = self->state.slots[index];
        if (current.handle && current.handle != asked) {
          answer_from(self, index, current.handle, std::move(waiting));
          return;
        }
        if (!current.restarting.empty()) { // its start takes them along
          for (auto& rp : waiting)
            current.restarting.push_back(std::move(rp));
          return;
        }
        auto why = make_error(errc::model_unavailable,
                              "read model '" + current.spec.name
                                + "' went down again after the restart: "
                                + describe(err));
        for (auto& rp : waiting)
          rp.deliver(why);
      });
}

// Answers the operator's restarts of slot `index` once its new projector has
// caught up (or with why it went down first).
void answer_when_ready(supervisor_ptr self, std::size_t index) {
  auto& s = self->state.slots[index];
  auto waiting = std::move(s.restarting);
  s.restarting.clear();
  if (waiting.empty() || !s.handle)
    return;
  answer_from(self, index, s.handle, std::move(waiting));
}

// A half-open retry that catches up closes the circuit: the model runs
// again with a fresh restart budget.
void watch_trial(supervisor_ptr self, std::size_t index) {
  auto h = self->state.slots[index].handle;
  self->request(h, caf::infinite, ready_atom::value)
    .then(
      [self, index, h](projector_status&) {
        auto& s = self->state.slots[index];
        if (s.handle != h || !s.trial)
          return;
        s.trial = false;
        s.cooldowns = 0;
        s.recent.clear();
        BUS_LOG(log_level::info, "supervisor",
                "read model '" << s.spec.name << "' runs again after its cool-down");
      },
      [](caf::error&) {
        // nop: its down message reopens the circuit
      });
}

} // namespace

void start(supervisor_ptr self, std::size_t index) {
  auto& st = self->state;
  auto& s = st.slots[index];
  auto options = st.options;
  options.owner = self->address();
  s.handle = self->spawn(projector_impl, st.bus, s.spec, options);
  self->monitor(s.handle);
  s.state = model_state::running;
  // The operator paused the model: its new projector is paused before it
  // handles anything else (the first message in its mailbox).
  // Told where the model was paused, it answers queries once restored to
  // that state (the snapshot or table the pause kept), and never from
  // another.
  // A partition of a shared model that moved here: replays up to where it
  // was paused, and holds there.
  if (s.wanted == supervisor_state::intent::pause) {
    auto ignored = [](projector_status&) {};
    auto failed = [](caf::error&) {}; // its down message says why
    if (s.frozen_at && shared_partition(st, s))
      self->request(s.handle, caf::infinite, hold_atom::value, *s.frozen_at)
        .then(ignored, failed);
    else if (s.frozen_at)
      self->request(s.handle, caf::infinite, pause_atom::value, *s.frozen_at)
        .then(ignored, failed);
    else
      self->request(s.handle, caf::infinite, pause_atom::value).then(ignored, failed);
  }
  // A new projector has made no progress yet; status measures from here.
  s.seen_checkpoint = 0;
  s.seen_checkpoint_timestamp = 0;
  s.progress_at = self->clock().now();
  watch_new_projector(self, index); // waits go on with the new projector
}

std::optional<std::uint64_t> frozen_of(const projector_status& x) {
  return x.frozen_at ? std::optional<std::uint64_t>{*x.frozen_at} : std::nullopt;
}

void note_frozen(supervisor_ptr self, std::size_t index, const projector_status& x) {
  auto& s = self->state.slots[index];
  // Already paused (a projector switched in, paused): where its frozen
  // state is now is kept for the next node too. No request waits for it: a
  // failure to keep it is logged (keep_paused, report_pause).
  if (s.wanted == supervisor_state::intent::pause)
    keep_intent(self, s.spec.name, s.wanted, frozen_of(x), nullptr);
  else
    s.frozen_at = frozen_of(x);
}

void keep_intent(supervisor_ptr self, const std::string& model,
                 supervisor_state::intent x, std::optional<std::uint64_t> frozen_at,
                 intent_kept done) {
  auto here = record_intent(self, model, x, frozen_at);
  // A partition of a shared model: its pause moves with it, and the bus
  // keeps it for whichever node runs it next. Told even when this node's
  // store failed: the partition is so here now.
  report_pause(self, model, x, frozen_at,
               [here = std::move(here), done = std::move(done)](caf::error theirs) {
                 if (done)
                   done(here ? here : std::move(theirs));
               });
}

namespace {

// Keeps `model` paused or not in the store of pauses. A failure is logged
// and returned: the model is so on this node now, but would not be after
// a restart of the node, so the request must not be acknowledged as done.
caf::error keep_paused(supervisor_state& st, const std::string& model, bool paused,
                       std::optional<std::uint64_t> frozen_at) {
  auto err = st.lifecycle->set_paused(model, paused, frozen_at);
  if (!err)
    return {};
  BUS_LOG(log_level::error, "supervisor",
          "read model '" << model << "': cannot keep its pause: " << context_of(err));
  // Unavailable (error 11) when fenced: like every request to a bus node
  // that no longer leads, it belongs to the one that does.
  return intent_not_kept(
    "read model '" + model + "': " + (paused ? "paused" : "resumed")
      + " on this node but not kept",
    err, st.lifecycle->fenced(), paused, "this node", "a restart of the node would");
}

} // namespace

caf::error record_intent(supervisor_ptr self, const std::string& model,
                         supervisor_state::intent x,
                         std::optional<std::uint64_t> frozen_at) {
  auto& st = self->state;
  for (auto& s : st.slots)
    if (s.spec.name == model) {
      s.wanted = x;
      s.frozen_at = frozen_at;
    }
  if (!st.lifecycle)
    return {};
  auto paused = x == supervisor_state::intent::pause;
  auto result = keep_paused(st, model, paused, frozen_at);
  // A partition resumed on its own: the whole model's pause no longer holds
  // (the other partitions keep theirs).
  auto whole = model_of(model);
  if (!result && !paused && whole != model)
    result = keep_paused(st, std::string{whole}, false, std::nullopt);
  return result;
}

void live_down(supervisor_ptr self, const caf::down_msg& dm) {
  auto& st = self->state;
  for (std::size_t i = 0; i < st.slots.size(); ++i) {
    auto& s = st.slots[i];
    if (!s.handle || s.handle.address() != dm.source)
      continue;
    s.handle = nullptr;
    // A partition the bus moved to another node (shared models).
    using placement = supervisor_state::placement;
    if (s.where == placement::leaving) {
      s.where = placement::elsewhere;
      s.state = model_state::stopped;
      return;
    }
    if (s.where == placement::returning) {
      s.where = placement::here;
      start(self, i);
      return;
    }
    if (!s.restarting.empty()) {
      // The operator stopped it: start the fresh one now that it is gone,
      // so that the two never write the model's snapshots or table at once.
      start(self, i);
      answer_when_ready(self, i);
      return;
    }
    if (!dm.reason || dm.reason == caf::exit_reason::user_shutdown) {
      s.state = model_state::stopped;
      return;
    }
    s.last_error = describe(dm.reason);
    if (s.trial) {
      open_circuit(self, i); // the retry failed before catching up
      return;
    }
    auto now = self->clock().now();
    while (!s.recent.empty() && now - s.recent.front() > st.policy.restart_window)
      s.recent.pop_front();
    if (s.recent.size() >= st.policy.max_restarts) {
      open_circuit(self, i);
      return;
    }
    auto delay = backoff_delay(st.policy, s.recent.size());
    s.recent.push_back(now);
    s.state = model_state::restarting;
    ++s.generation;
    BUS_LOG(log_level::warning, "supervisor",
            "read model '" << s.spec.name << "' failed (" << s.last_error
                           << "); restarting in " << millis(delay) << " ms");
    self->delayed_send(self, delay, restart_atom::value, static_cast<std::uint64_t>(i),
                       s.generation);
    return;
  }
}

void restart_due(supervisor_ptr self, std::uint64_t index, std::uint64_t generation) {
  auto& st = self->state;
  if (index >= st.slots.size())
    return;
  auto& s = st.slots[index];
  if (s.generation != generation || s.handle)
    return;
  if (s.state == model_state::restarting) {
    ++s.restarts;
    start(self, index);
  } else if (s.state == model_state::failed) {
    ++s.restarts;
    start(self, index);
    s.trial = true;
    watch_trial(self, index);
  }
}

caf::result<projector_status> restart_model(supervisor_ptr self, std::size_t index) {
  auto& s = self->state.slots[index];
  if (s.where != supervisor_state::placement::here)
    return make_error(errc::model_unavailable,
                      "read model '" + s.spec.name
                        + "' runs on another node of the ones that share its model");
  if (auto err = refuse_in_hand_over(self->state, s.spec.name, "restart"))
    return err;
  auto rp = self->make_response_promise<projector_status>();
  s.restarting.push_back(rp);
  // A fresh start: the operator has looked at it, so the budget and the
  // cool-downs start over, and any timer pending for it is void.
  ++s.generation;
  s.recent.clear();
  s.cooldowns = 0;
  s.trial = false;
  BUS_LOG(log_level::info, "supervisor",
          "restarting read model '" << s.spec.name << "' on request");
  if (s.handle) {
    s.state = model_state::restarting;
    if (s.restarting.size() == 1)
      self->send_exit(s.handle, caf::exit_reason::user_shutdown);
    // live_down starts the new projector once this one is gone.
  } else {
    start(self, index);
    answer_when_ready(self, index);
  }
  return rp;
}

} // namespace bus::internal

namespace bus::actors {

caf::timespan backoff_delay(const supervision_policy& policy, std::size_t n) {
  auto delay = policy.initial_backoff;
  for (std::size_t i = 0; i < n && delay < policy.max_backoff; ++i)
    delay *= 2;
  return std::min(delay, policy.max_backoff);
}

caf::timespan cooldown_delay(const supervision_policy& policy, std::size_t n) {
  auto delay = policy.cooldown;
  for (std::size_t i = 0; i < n && delay < policy.max_cooldown; ++i)
    delay *= 2;
  return std::max(policy.cooldown, std::min(delay, policy.max_cooldown));
}

} // namespace bus::actors
