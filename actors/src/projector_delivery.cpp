// The projector's delivery from its bus (see projector.hpp): pushes and
// progress notes applied as they come, or held while it is behind and
// drained once it catches up, and the retry of a suspended batch. Pulling
// the log is in projector_catch_up.cpp.

#include "internal/projector_parts.hpp"

#include <caf/all.hpp>

namespace bus::internal {

using namespace actors;

// Answers every held push unapplied: its events come back from the log.
void release_held(projector_state& st) {
  abandon_suspended(st);
  for (auto& h : st.held)
    h.promise.deliver(unapplied_ack(st));
  st.held.clear();
}

namespace {

// Applies `work` and answers its push; false when it is suspended (its
// retry resumes) or the projector is failing.
bool finish_work(projector_ptr self, suspended_batch& work) {
  auto& st = self->state;
  switch (apply_batch(self, work)) {
    case apply_outcome::suspended:
      return false;
    case apply_outcome::failed:
      if (work.promise)
        work.promise->deliver(st.failure);
      return false;
    case apply_outcome::done:
      break;
  }
  pass_to(st, work.covers_to, work.ack);
  tell_watcher(self);
  if (work.promise)
    answer_applied(st, std::move(*work.promise), std::move(work.ack));
  return true;
}

} // namespace

// Applies held pushes in order until one leaves a gap (then pulls again) or
// none is left (then the projector runs live).
void drain_held(projector_ptr self) {
  auto& st = self->state;
  if (st.phase == projector_phase::paused || st.phase == projector_phase::pausing
      || st.phase == projector_phase::frozen || st.suspended)
    return; // resume (or thaw) drains, and so does the end of a suspended batch
  while (!st.held.empty()) {
    auto& h = st.held.front();
    if (h.covers_from > st.processed.watermark() + 1) {
      st.catch_up_target = h.covers_from - 1;
      if (st.phase == projector_phase::running)
        enter(st, projector_phase::filling_gap);
      pull(self);
      return;
    }
    auto work = make_work(h.batch, h.covers_to, h.promise, false);
    st.held.pop_front();
    if (!finish_work(self, work))
      return;
  }
  enter(st, projector_phase::running);
  // Promoted and caught up: later events reach it in pushes of its own.
  if (st.took && st.role == model_role::live)
    st.took->seal(st.processed.watermark());
  auto waiting = std::move(st.waiting);
  st.waiting.clear();
  for (auto& rp : waiting)
    rp.deliver(status_of(self));
}

// Applies a push or progress note announcing [covers_from, covers_to] now,
// or holds it while catching up (or when it shows a gap: then pulls first).
caf::result<delivery_ack> take_delivery(projector_ptr self, event_batch batch,
                                        std::uint64_t covers_from,
                                        std::uint64_t covers_to) {
  auto& st = self->state;
  auto gap = covers_from > st.processed.watermark() + 1;
  if (st.phase == projector_phase::paused || st.phase == projector_phase::pausing)
    return unapplied_ack(st); // pulled after resuming
  if (st.phase != projector_phase::running || !st.held.empty() || gap || st.suspended) {
    auto promise = self->make_response_promise<delivery_ack>();
    st.held.push_back({std::move(batch), covers_from, covers_to, promise});
    // Running, a gap sends it back to the log; behind a suspended batch it
    // only waits (drain_held finds any gap when it gets there).
    if (st.phase == projector_phase::running && gap && !st.suspended
        && st.held.size() == 1) {
      enter(st, projector_phase::filling_gap);
      st.catch_up_target = covers_from - 1;
      pull(self);
    }
    return promise;
  }
  auto work = make_work(std::move(batch), covers_to, std::nullopt, false);
  switch (apply_batch(self, work)) {
    case apply_outcome::suspended: {
      auto promise = self->make_response_promise<delivery_ack>();
      st.suspended->promise = promise;
      return promise;
    }
    case apply_outcome::failed:
      return st.failure;
    case apply_outcome::done:
      break;
  }
  pass_to(st, covers_to, work.ack);
  tell_watcher(self);
  if (st.table_state == table_sync::commit_due) {
    auto promise = self->make_response_promise<delivery_ack>();
    st.uncommitted.emplace_back(promise, std::move(work.ack));
    return promise;
  }
  return std::move(work.ack);
}

// Tries the suspended batch again; once done, goes on where it stopped.
void resume_suspended(projector_ptr self, std::uint64_t epoch) {
  auto& st = self->state;
  if (epoch != st.suspend_epoch || !st.suspended)
    return; // abandoned since
  if (st.phase == projector_phase::frozen)
    return; // the thaw tries it again
  auto work = std::move(*st.suspended);
  st.suspended.reset();
  if (!finish_work(self, work))
    return;
  // Pulls on if the batch came from a pull (even when running: a rebuild
  // or a gap may have sent it back to the log), and drains the held pushes
  // once at the target.
  pull(self);
}

} // namespace bus::internal
