#include "internal/blue_green_switch.hpp"

#include <limits>
#include <utility>

#include <caf/all.hpp>

#include "bus/errc.hpp"
#include "bus/log.hpp"
#include "internal/supervisor_await.hpp"

namespace bus::internal {

using namespace actors;

namespace {

void finish_rollback(supervisor_ptr self, std::size_t index, projector_actor previous,
                     projector_actor current, projector_status status,
                     caf::typed_response_promise<projector_status> promise) {
  auto& s = self->state.slots[index];
  s.rolling_back = false;
  if (s.previous != previous) {
    promise.deliver(
      make_error(errc::model_unavailable, "the previous projector of '" + s.spec.name
                                            + "' went down during the rollback"));
    return;
  }
  s.spec = std::move(s.previous_spec);
  s.previous_spec = {};
  // The projector live now, which a restart during the rollback may have
  // put in place of `current`, is replaced too: none is left untracked.
  if (s.handle && s.handle != current && s.handle != previous)
    self->send_exit(s.handle, caf::exit_reason::user_shutdown);
  s.handle = previous;
  s.previous = nullptr;
  s.state = model_state::running;
  watch_new_projector(self, index);
  ++s.generation;
  s.restarts = 0;
  s.recent.clear();
  s.cooldowns = 0;
  s.trial = false;
  s.last_error.clear();
  if (current)
    self->send_exit(current, caf::exit_reason::user_shutdown);
  BUS_LOG(log_level::info, "supervisor",
          "read model '" << s.spec.name << "' rolled back to its previous definition");
  status.role = model_role::live;
  if (keep_pause(self, index)) // a model paused before the rollback stays so
    status.state = model_state::paused;
  promise.deliver(std::move(status));
}

// Checks, once the previous projector has caught up, that it lacks no
// event the current one applied (as a switch does, see hand_over): the
// current one is frozen, then asked which of the previous one's parked
// events it did not apply either, and the previous one refuses otherwise.
// Frozen, not paused: a paused one answers its pushes without the model at
// once, so a publish the previous one applied was acknowledged naming the
// model while queries still went to the current one, which lacked it. A
// frozen one holds its pushes until the outcome: applied once reinstated,
// or answered without it once it is gone and queries reach the previous.
// A refusal is retried once after the previous one tried its parked events
// again; a second one undoes the rollback.
struct rollback_check {
  supervisor_ptr self;
  std::size_t index;
  projector_actor previous;
  projector_actor current;
  // Answered once, from a const step of the chain.
  mutable caf::typed_response_promise<projector_status> promise;
  std::uint64_t through = std::numeric_limits<std::uint64_t>::max();
  bool retried = false;

  void start() const {
    if (!current) {
      check(parked_list{}); // what it applied is unknown: lack nothing
      return;
    }
    auto h = *this;
    self->request(current, caf::infinite, freeze_atom::value)
      .then(
        [h](projector_status& frozen) mutable {
          h.through = frozen.checkpoint;
          h.ask_previous();
        },
        [h](caf::error&) { h.check(parked_list{}); });
  }

  void ask_previous() const {
    auto h = *this;
    self->request(previous, caf::infinite, parked_atom::value)
      .then([h](parked_list& theirs) { h.ask_current(std::move(theirs)); },
            [h](caf::error& err) { h.fail(std::move(err)); });
  }

  void ask_current(parked_list theirs) const {
    auto h = *this;
    self->request(current, caf::infinite, parked_atom::value, std::move(theirs))
      .then([h](parked_list& excused) { h.check(std::move(excused)); },
            [h](caf::error&) {
              auto blind = h;
              blind.through = std::numeric_limits<std::uint64_t>::max();
              blind.check(parked_list{});
            });
  }

  // The previous projector is live already: promoting it again changes
  // nothing but runs its check.
  void check(parked_list excused) const {
    auto h = *this;
    self
      ->request(previous, caf::infinite, promote_atom::value, std::move(excused),
                through)
      .then(
        [h](projector_status& ps) {
          finish_rollback(h.self, h.index, h.previous, h.current, std::move(ps),
                          h.promise);
        },
        [h](caf::error& err) {
          if (code_of(err) != errc::precondition_failed) {
            h.fail(std::move(err));
            return;
          }
          if (h.retried) {
            h.refuse(std::move(err));
            return;
          }
          auto again = h;
          again.retried = true;
          h.self
            ->request(h.previous, caf::infinite, unpark_atom::value, std::uint64_t{0})
            .then([again](parked_list&) { again.start(); },
                  [again](caf::error& e) { again.fail(std::move(e)); });
        });
  }

  // The current projector stays live; the previous one is kept, paused.
  void refuse(caf::error why) const {
    auto& s = self->state.slots[index];
    s.rolling_back = false;
    if (s.previous == previous) {
      self->request(previous, caf::infinite, demote_atom::value)
        .then([](projector_status&) {}, [](caf::error&) {});
      self->request(previous, caf::infinite, pause_atom::value)
        .then([](projector_status&) {}, [](caf::error&) {});
    }
    auto refusal = make_error(errc::precondition_failed,
                              "cannot roll back '" + s.spec.name + "': " + describe(why)
                                + "; the current projector stays live and the"
                                  " previous one is kept");
    reinstate(self, index, current,
              [promise = promise, refusal]() mutable { promise.deliver(refusal); });
  }

  void fail(caf::error err) const {
    self->state.slots[index].rolling_back = false;
    reinstate(self, index, current,
              [promise = promise, err]() mutable { promise.deliver(err); });
  }
};

} // namespace

void rollback_caught_up(supervisor_ptr self, std::size_t index,
                        projector_actor previous, projector_actor current,
                        caf::typed_response_promise<projector_status> promise) {
  rollback_check{self, index, previous, current, std::move(promise)}.start();
}

} // namespace bus::internal
