// The projector's catch-up and live delivery (see projector.hpp): pulling
// the log up to a target while holding pushes, applying pushes as they come,
// a push that shows a gap, and losing and finding the bus again.

#include "internal/projector_parts.hpp"

#include <algorithm>

#include <caf/all.hpp>

#include "bus/errc.hpp"

namespace bus::internal {

using namespace actors;

namespace {

// True when `err` means the bus did not answer because it (or its node) is
// out of reach, not because it refused: the projector then waits for its bus
// to come back instead of failing.
bool bus_lost(const caf::error& err) {
  return err == caf::sec::request_timeout || err == caf::sec::request_receiver_down
         || err == caf::sec::no_route_to_receiving_node
         || err == caf::exit_reason::remote_link_unreachable;
}

} // namespace

// Answers every held push unapplied: its events come back from the log.
void release_held(projector_state& st) {
  abandon_suspended(st);
  for (auto& h : st.held)
    h.promise.deliver(unapplied_ack(st));
  st.held.clear();
}

void drop_pulls(projector_state& st) {
  ++st.pull_epoch;
  st.pulls_in_flight = 0;
  st.pull_gaps.clear();
  st.pulled_early.clear();
}

// A request to the bus failed: wait and retry when the bus is out of reach,
// fail otherwise (it refused, e.g. its store failed).
void bus_failed(projector_ptr self, caf::error err) {
  auto& st = self->state;
  // Without a bus (lost), a request fails for want of a receiver.
  if (st.bus && !bus_lost(err)) {
    fail(self, std::move(err));
    return;
  }
  if (st.phase == projector_phase::detached)
    return;
  drop_pulls(st); // answers still under way are dropped
  release_held(st);
  if (st.phase == projector_phase::paused)
    return; // resuming subscribes again
  if (st.phase == projector_phase::pausing) {
    // Pulls on up to where its model was paused once the bus is back.
    self->delayed_send(self, st.options.retry_delay, retry_atom::value,
                       st.bus_generation);
    return;
  }
  if (st.phase == projector_phase::frozen) {
    st.thaw_to = projector_phase::detached; // the thaw subscribes again
    return;
  }
  enter(st, projector_phase::detached);
  self->delayed_send(self, st.options.retry_delay, retry_atom::value,
                     st.bus_generation);
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

void rebind(projector_ptr self, bus_actor new_bus) {
  auto& st = self->state;
  st.bus = std::move(new_bus);
  ++st.bus_generation;
  drop_pulls(st); // what the old bus still owes is dropped
  // So is the answer to a subscribe under way: a pausing projector, which
  // does not subscribe again, would otherwise wait for it forever.
  st.subscribing = false;
  release_held(st);
  if (st.phase == projector_phase::paused)
    return; // resuming subscribes to the new bus
  if (st.phase == projector_phase::pausing) {
    if (st.bus)
      pull(self); // on up to where its model was paused
    return;
  }
  if (st.phase == projector_phase::frozen) {
    st.thaw_to = projector_phase::detached; // the thaw subscribes
    return;
  }
  subscribe(self); // then pulls from the checkpoint to the new head
}

namespace {

// A projector restored from a snapshot or table knows its checkpoint but
// not that event's time, which lag_ms is measured from: read it back, so
// that a restored model not applying yet (paused, or catching up) shows how
// far behind it is in time, not 0.
void learn_checkpoint_time(projector_ptr self) {
  auto& st = self->state;
  auto at = st.processed.watermark();
  if (st.checkpoint_timestamp != 0 || at == 0)
    return;
  self
    ->request(st.bus, st.options.bus_timeout, replay_atom::value, at, std::uint32_t{1})
    .then(
      [self, at](event_batch& batch) {
        auto& state = self->state;
        if (state.checkpoint_timestamp == 0 && !batch.empty() && batch.front().seq == at
            && state.processed.watermark() == at)
          state.checkpoint_timestamp = batch.front().timestamp;
      },
      [](caf::error&) {}); // only a figure of status: a later apply sets it
}

} // namespace

// Registers with the bus, which answers with the head seq to catch up to.
void subscribe(projector_ptr self) {
  auto& st = self->state;
  if (!st.bus) {
    // Lost (rebound to no bus): waits for the rebind that brings one.
    st.subscribing = false;
    drop_pulls(st);
    release_held(st);
    enter(st, projector_phase::detached);
    return;
  }
  st.subscribed = true;
  st.subscribing = true;
  // A rebuild under way stays one; every other phase catches up from here.
  if (st.phase != projector_phase::rebuilding)
    enter(st, projector_phase::catching_up);
  auto name = st.model->name();
  if (st.role == model_role::shadow)
    name += shadow_suffix;
  // Also the types that upcasters turn into the model's (renamed types).
  auto types = st.upcasters ? st.upcasters->sources_of(st.model->event_types())
                            : st.model->event_types();
  self
    ->request(st.bus, st.options.bus_timeout, subscribe_atom::value,
              projector_actor{self}, std::move(name), std::move(types))
    .then(
      [self, generation = st.bus_generation](std::uint64_t head) {
        auto& state = self->state;
        if (generation != state.bus_generation)
          return; // subscribed to a bus it has left since
        state.subscribing = false;
        if (state.phase == projector_phase::pausing) {
          pull(self); // held since: up to where its model was paused, no further
          return;
        }
        if (head < state.processed.watermark()) {
          // The bus has fewer events than this model took: it lost its
          // log (restarted without a store). Its seqs now name other
          // events, so nothing projected so far can be trusted.
          state.catch_up_target = head;
          start_rebuild(self);
          return;
        }
        state.catch_up_target = std::max(state.catch_up_target, head);
        learn_checkpoint_time(self);
        pull(self);
      },
      [self, generation = st.bus_generation](caf::error& err) {
        if (generation != self->state.bus_generation)
          return;
        self->state.subscribing = false;
        bus_failed(self, std::move(err));
      });
}

// A shadow reads the log without subscribing, so that publishers never wait
// for its catch-up; it subscribes once it is within a replay batch of the
// head, and catches up the rest like any projector.
void approach_head(projector_ptr self) {
  auto& st = self->state;
  if (st.asking_head)
    return;
  st.asking_head = true;
  self->request(st.bus, st.options.bus_timeout, head_atom::value)
    .then(
      [self](std::uint64_t head) {
        auto& state = self->state;
        state.asking_head = false;
        if (state.subscribed)
          return; // promoted meanwhile
        if (head <= state.processed.watermark() + state.options.replay_batch) {
          subscribe(self);
          return;
        }
        state.catch_up_target = std::max(state.catch_up_target, head);
        pull(self);
      },
      [self](caf::error& err) { fail(self, std::move(err)); });
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
