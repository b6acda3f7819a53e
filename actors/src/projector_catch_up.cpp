// The projector's catch-up from the log (see projector.hpp): pulling it up
// to a target with several requests under way, in order, and the rebuild
// that pulls it from seq 1. Pushes held meanwhile are in
// projector_delivery.cpp.

#include "internal/projector_parts.hpp"

#include <algorithm>

#include <caf/all.hpp>

namespace bus::internal {

using namespace actors;

void drop_pulls(projector_state& st) {
  ++st.pull_epoch;
  st.pulls_in_flight = 0;
  st.pull_gaps.clear();
  st.pulled_early.clear();
}

// Forgets the processed ids and the read model's state, and pulls the log
// from seq 1 up to at least what was processed.
void start_rebuild(projector_ptr self) {
  auto& st = self->state;
  st.catch_up_target = std::max(st.catch_up_target, st.processed.watermark());
  // A batch waiting for a retry is answered unapplied by the reset: the
  // events of its push come back from the log only if the pull reaches the
  // end of the range the push announced.
  if (st.suspended)
    st.catch_up_target = std::max(st.catch_up_target, st.suspended->covers_to);
  if (!reset_model(self))
    return;
  ++st.rebuilds;
  drop_pulls(st);
  // Paused or without a bus, it pulls once resumed or reconnected; frozen,
  // once thawed. Reset on its way to a pause, it stops short of it: its
  // frozen state is gone (it answers queries no more until resumed).
  if (st.phase == projector_phase::pausing)
    enter(st, projector_phase::paused);
  if (st.phase == projector_phase::paused || st.phase == projector_phase::detached)
    return;
  if (st.phase == projector_phase::frozen) {
    if (st.thaw_to != projector_phase::detached)
      st.thaw_to = projector_phase::rebuilding;
    return;
  }
  enter(st, projector_phase::rebuilding);
  pull(self);
}

namespace {

void ask(projector_ptr self, std::uint64_t from, std::uint64_t max);

// Asks for more of the log until options.replay_ahead requests are under way
// or the target is covered.
void request_ahead(projector_ptr self) {
  auto& st = self->state;
  auto ahead = std::max<std::uint32_t>(st.options.replay_ahead, 1);
  while (st.pulls_in_flight < ahead && st.next_pull <= st.catch_up_target
         && st.phase != projector_phase::paused) {
    // Never past the target: what comes after it arrives in held pushes,
    // which must find those events new to report them applied.
    auto max = std::min<std::uint64_t>(st.options.replay_batch,
                                       st.catch_up_target - st.next_pull + 1);
    ask(self, st.next_pull, max);
    st.next_pull += max;
  }
}

// Applies a pulled batch; false when the projector stops pulling (the batch
// is suspended, or the projector failed).
bool apply_pulled(projector_ptr self, const event_batch& batch) {
  auto& st = self->state;
  auto work = make_work(batch, batch.last_seq(), std::nullopt, true);
  switch (apply_batch(self, work)) {
    case apply_outcome::suspended:
      // Answers under way are dropped: the retry pulls on from the
      // checkpoint once the batch is done.
      drop_pulls(st);
      return false;
    case apply_outcome::failed:
      return false;
    case apply_outcome::done:
      break;
  }
  return true;
}

// Takes the answer to a request for [from, end): applies it, and then the
// answers that waited for it, or keeps it until the gap in front of it is
// filled. False when the projector stops pulling (see apply_pulled).
bool take_pulled(projector_ptr self, event_batch batch, std::uint64_t from,
                 std::uint64_t end) {
  auto& st = self->state;
  auto& gaps = st.pull_gaps;
  // The answer to a request for a gap's events fills it.
  if (auto i = std::find(gaps.begin(), gaps.end(), from); i != gaps.end())
    gaps.erase(i);
  // A log reads to the end of a stretch it keeps (a chunk of its tail, a
  // stretch it decoded): the rest is asked for again. Its answer comes
  // after those already under way, which wait in pulled_early meanwhile.
  if (batch.last_seq() + 1 < end) {
    ask(self, batch.last_seq() + 1, end - batch.last_seq() - 1);
    gaps.insert(std::upper_bound(gaps.begin(), gaps.end(), batch.last_seq() + 1),
                batch.last_seq() + 1);
  }
  // Keep requests under way while this batch is applied, so that the bus
  // reads while the projector works.
  request_ahead(self);
  auto& early = st.pulled_early;
  if (!gaps.empty() && gaps.front() < from) {
    auto at = std::upper_bound(early.begin(), early.end(), from,
                               [](std::uint64_t x, const auto& answer) {
                                 return x < answer.first;
                               });
    early.emplace(at, from, std::move(batch));
    return true;
  }
  if (!apply_pulled(self, batch))
    return false;
  while (!early.empty() && (gaps.empty() || gaps.front() > early.front().first)) {
    auto next = std::move(early.front().second);
    early.erase(early.begin());
    if (!apply_pulled(self, next))
      return false;
  }
  return true;
}

// Asks the bus for up to `max` events from `from` on. Answers come in the
// order asked (one sender, one receiver).
void ask(projector_ptr self, std::uint64_t from, std::uint64_t max) {
  auto& st = self->state;
  ++st.pulls_in_flight;
  self
    ->request(st.bus, st.options.bus_timeout, replay_atom::value, from,
              static_cast<std::uint32_t>(max))
    .then(
      [self, epoch = st.pull_epoch, from, end = from + max](event_batch& batch) {
        auto& state = self->state;
        if (epoch != state.pull_epoch)
          return; // asked before a rebuild: its pull is under way
        --state.pulls_in_flight;
        if (batch.empty()) {
          // The log ends before the target: nothing more to read, also for
          // the requests after this one.
          state.catch_up_target = state.processed.watermark();
          drop_pulls(state);
        } else if (!take_pulled(self, std::move(batch), from, end)) {
          return;
        }
        if (state.pulls_in_flight == 0)
          pull(self);
      },
      [self, epoch = st.pull_epoch](caf::error& err) {
        // A request dropped meanwhile fails nothing: those after it tell.
        if (epoch == self->state.pull_epoch)
          bus_failed(self, std::move(err));
      });
}

} // namespace

// Reads the log from the checkpoint on until it reaches the catch-up target.
void pull(projector_ptr self) {
  auto& st = self->state;
  // Nothing to pull to before the bus has said where its head is.
  if (st.pulls_in_flight > 0 || st.phase == projector_phase::paused
      || st.phase == projector_phase::frozen || st.phase == projector_phase::detached
      || st.suspended || st.subscribing)
    return;
  if (st.processed.watermark() >= st.catch_up_target) {
    if (st.phase == projector_phase::pausing)
      reach_pause(self);
    else if (st.subscribed)
      drain_held(self);
    else
      approach_head(self); // a shadow not yet subscribed
    return;
  }
  st.next_pull = st.processed.watermark() + 1;
  request_ahead(self);
}

} // namespace bus::internal
