#include "internal/blue_green_switch.hpp"

#include <chrono>
#include <limits>
#include <utility>

#include <caf/all.hpp>

#include "bus/errc.hpp"
#include "bus/log.hpp"
#include "internal/restarts.hpp"
#include "internal/supervisor_await.hpp"

namespace bus::internal {

using namespace actors;

namespace {

void complete_switch(supervisor_ptr self, std::size_t index, projector_actor shadow,
                     projector_status status);

// True while `shadow` is still slot `index`'s shadow, switching in.
bool switching(supervisor_ptr self, std::size_t index, const projector_actor& shadow) {
  auto& s = self->state.slots[index];
  return s.shadow && s.shadow->handle == shadow
         && s.shadow->state == model_state::switching;
}

// The shadow lacks events the live projector applied: switching now would
// drop them from the model. Like a failing shadow, it tries again after a
// backoff (its parked events, then the switch), within the restart budget;
// then it stays down, failed, and never goes live.
void hold(supervisor_ptr self, std::size_t index, const caf::error& why) {
  auto& st = self->state;
  auto& s = st.slots[index];
  auto& sh = *s.shadow;
  if (sh.holds >= st.policy.max_restarts) {
    sh.state = model_state::failed;
    sh.last_error = describe(why);
    BUS_LOG(log_level::error, "supervisor",
            "the shadow of read model '" << s.spec.name << "' stays down after "
                                         << sh.holds << " holds of its switch; the live"
                                         << " projector goes on: " << sh.last_error);
    give_up(s, make_error(errc::model_unavailable,
                          "the shadow of '" + s.spec.name
                            + "' cannot switch in: " + sh.last_error));
    // Down like a shadow that kept crashing; not a shadow's down message.
    auto handle = std::exchange(sh.handle, nullptr);
    self->demonitor(handle.address());
    self->send_exit(handle, caf::exit_reason::user_shutdown);
    return;
  }
  auto delay = backoff_delay(st.policy, sh.holds++);
  sh.state = model_state::parked;
  sh.generation = ++s.shadow_generations;
  sh.last_error = describe(why);
  BUS_LOG(log_level::warning, "supervisor",
          sh.last_error
            << "; the switch waits, trying them again in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(delay).count()
            << " ms");
  self->delayed_send(self, delay, unpark_atom::value, shadow_atom::value,
                     static_cast<std::uint64_t>(index), sh.generation);
}

// Promotes the shadow unless it lacks an event that the live projector,
// frozen at `through`, applied (`excused` lists those it lacks that the
// live one did not apply either).
void promote_shadow(supervisor_ptr self, std::size_t index, projector_actor shadow,
                    projector_actor live, parked_list excused, std::uint64_t through) {
  self->request(shadow, caf::infinite, promote_atom::value, std::move(excused), through)
    .then(
      [self, index, shadow](projector_status& ps) {
        complete_switch(self, index, shadow, std::move(ps));
      },
      [self, index, shadow, live](caf::error& err) {
        if (!switching(self, index, shadow))
          return; // gone: its down message undid the switch
        if (code_of(err) != errc::precondition_failed)
          return; // failing: its down message undoes the switch
        reinstate(self, index, live);
        hold(self, index, err);
      });
}

// The steps of a hand-over from a frozen live projector, as one chain.
struct hand_over {
  supervisor_ptr self;
  std::size_t index;
  projector_actor shadow;
  projector_actor live;
  std::uint64_t through = 0;

  bool on() const { return switching(self, index, shadow); }

  // What the live projector applied cannot be asked: the shadow must lack
  // nothing.
  void blind() const {
    if (on())
      promote_shadow(self, index, shadow, live, parked_list{},
                     std::numeric_limits<std::uint64_t>::max());
  }

  void start() const {
    auto h = *this;
    self->request(live, caf::infinite, freeze_atom::value)
      .then(
        [h](projector_status& frozen) mutable {
          h.through = frozen.checkpoint;
          if (h.on())
            h.ask_shadow();
        },
        [h](caf::error&) { h.blind(); });
  }

  void ask_shadow() const {
    auto h = *this;
    self->request(shadow, caf::infinite, parked_atom::value)
      .then(
        [h](parked_list& theirs) {
          if (h.on())
            h.ask_live(std::move(theirs));
        },
        [](caf::error&) {
          // nop: its down message undoes the switch
        });
  }

  void ask_live(parked_list theirs) const {
    auto h = *this;
    self->request(live, caf::infinite, parked_atom::value, std::move(theirs))
      .then(
        [h](parked_list& excused) {
          if (h.on())
            h.demote(std::move(excused));
        },
        [h](caf::error&) { h.blind(); });
  }

  void demote(parked_list excused) const {
    auto h = *this;
    self->request(live, caf::infinite, demote_atom::value)
      .then(
        [h, excused = std::move(excused)](projector_status&) mutable {
          if (h.on())
            promote_shadow(h.self, h.index, h.shadow, h.live, std::move(excused),
                           h.through);
        },
        [h](caf::error&) { h.blind(); });
  }
};

// The one step: from here on queries and restarts use the new projector.
void complete_switch(supervisor_ptr self, std::size_t index, projector_actor shadow,
                     projector_status status) {
  auto& s = self->state.slots[index];
  if (!s.shadow || s.shadow->handle != shadow
      || s.shadow->state != model_state::switching)
    return;
  if (s.handle) {
    s.previous = s.handle;
    s.previous_spec = std::move(s.spec);
    // Kept paused: it costs nothing, and a rollback catches it up. The
    // pushes it held during the hand-over are answered by the new one.
    self
      ->request(s.previous, caf::infinite, pause_atom::value,
                caf::actor_cast<caf::actor>(shadow))
      .then([](projector_status&) {}, [](caf::error&) {});
  }
  s.spec = std::move(s.shadow->spec);
  s.handle = shadow;
  s.state = model_state::running;
  ++s.generation; // a restart pending for the old projector is void
  s.restarts = 0;
  s.recent.clear();
  s.cooldowns = 0;
  s.trial = false;
  s.last_error.clear();
  auto waiting = std::move(s.shadow->waiting);
  s.shadow.reset();
  watch_new_projector(self, index); // waits go on with the new projector
  BUS_LOG(log_level::info, "supervisor",
          "read model '" << s.spec.name << "' switched to its new definition"
                         << (s.previous ? "; the previous projector is kept paused"
                                        : ""));
  status.role = model_role::live;
  if (keep_pause(self, index)) // a model paused before it switched stays so
    status.state = model_state::paused;
  else if (status.state == model_state::running && status.parked > 0)
    status.state = model_state::parked; // as status shows it (judge, health.cpp)
  for (auto& rp : waiting)
    rp.deliver(status);
}

} // namespace

// Hands the model over: the live projector stops applying (frozen, so that
// what it applied is fixed, while the pushes it holds wait for the outcome)
// and writing snapshots before the shadow, which must hold every event it
// applied, writes its first.
void begin_switch(supervisor_ptr self, std::size_t index, projector_actor shadow) {
  auto& s = self->state.slots[index];
  s.shadow->state = model_state::switching;
  hand_over h{self, index, shadow, s.handle};
  if (s.handle)
    h.start();
  else
    h.blind(); // the live projector is down
}

void reinstate(supervisor_ptr self, std::size_t index, projector_actor live,
               std::function<void()> then) {
  auto& s = self->state.slots[index];
  if (!live || s.handle != live) {
    if (then)
      then();
    return;
  }
  // Paused again once the promote is through: a projector that owns
  // snapshots writes one before it goes live, and would go live past a
  // pause sent meanwhile. A failed promote is the projector's failure: its
  // restart keeps the pause.
  self->request(live, caf::infinite, promote_atom::value)
    .then(
      [self, index, live, then](projector_status&) {
        if (self->state.slots[index].handle == live)
          keep_pause(self, index);
        if (then)
          then();
      },
      [then](caf::error&) {
        if (then)
          then();
      });
}

bool keep_pause(supervisor_ptr self, std::size_t index) {
  auto& s = self->state.slots[index];
  if (s.wanted != supervisor_state::intent::pause || !s.handle)
    return false;
  // Its frozen state is this projector's now: a restart restores that one.
  self->request(s.handle, caf::infinite, pause_atom::value)
    .then(
      [self, index, paused = s.handle](projector_status& st) {
        auto& slot = self->state.slots[index];
        if (slot.handle == paused)
          note_frozen(self, index, st);
      },
      [](caf::error&) {});
  return true;
}

std::string describe(const caf::error& reason) {
  if (code_of(reason) != errc::none)
    return context_of(reason);
  return caf::to_string(reason);
}

// Answers the requests that waited for a switch that will not happen.
void give_up(supervisor_state::slot& s, const caf::error& reason) {
  for (auto& rp : s.shadow->waiting)
    rp.deliver(reason);
  s.shadow->waiting.clear();
}

void retry_held(supervisor_ptr self, std::uint64_t index, std::uint64_t generation) {
  auto& slots = self->state.slots;
  if (index >= slots.size())
    return;
  auto& s = slots[index];
  if (!s.shadow || s.shadow->generation != generation
      || s.shadow->state != model_state::parked || !s.shadow->handle)
    return;
  auto shadow = s.shadow->handle;
  self->request(shadow, caf::infinite, unpark_atom::value, std::uint64_t{0})
    .then(
      [self, index, shadow, generation](parked_list&) {
        auto& sh = self->state.slots[index].shadow;
        if (sh && sh->handle == shadow && sh->generation == generation
            && sh->state == model_state::parked)
          begin_switch(self, index, shadow);
      },
      [](caf::error&) {
        // nop: its down message reports the failure
      });
}

} // namespace bus::internal
