#include "bus/actors/projector.hpp"

#include <cstdio>
#include <exception>
#include <optional>

#include <caf/all.hpp>

#include "bus/errc.hpp"
#include "internal/projector_parts.hpp"

namespace bus::actors {

namespace {

using self_ptr = projector_actor::stateful_pointer<projector_state>;
using internal::apply_outcome;
using internal::fail;
using internal::pass_to;

// An acknowledgement that applies nothing: the events come back later from
// the log (a paused projector answers pushes with it).
delivery_ack unapplied_ack(const projector_state& st) {
  delivery_ack ack;
  ack.checkpoint = st.processed.watermark();
  return ack;
}

// True when `err` means the bus did not answer because it (or its node) is
// out of reach, not because it refused: the projector then waits for its bus
// to come back instead of failing.
bool bus_lost(const caf::error& err) {
  return err == caf::sec::request_timeout || err == caf::sec::request_receiver_down
         || err == caf::sec::no_route_to_receiving_node
         || err == caf::exit_reason::remote_link_unreachable;
}

// Answers every held push unapplied: its events come back from the log.
void release_held(projector_state& st) {
  internal::abandon_suspended(st);
  for (auto& h : st.held)
    h.promise.deliver(unapplied_ack(st));
  st.held.clear();
}

void pull(self_ptr self);

projector_status status_of(self_ptr self);

// True when a projector may move from phase `from` to `to` (projector.hpp
// lists the moves).
constexpr bool allowed(projector_phase from, projector_phase to) noexcept {
  using p = projector_phase;
  switch (to) {
    case p::approaching:
      return false; // only a new shadow starts there
    case p::catching_up:
      return from != p::rebuilding;
    case p::rebuilding:
      return from != p::paused;
    case p::running:
      return from == p::catching_up || from == p::rebuilding;
    case p::detached:
      return from != p::paused;
    case p::paused:
      return true;
  }
  return false;
}

// Moves the projector to phase `to`: the one place its phase changes.
void enter(projector_state& st, projector_phase to) {
  if (st.phase == to)
    return;
  // A move outside the list is a bug in this file; keep the phase rather
  // than enter a state nobody designed for.
  if (!allowed(st.phase, to)) {
    std::fprintf(stderr, "projector '%s': ignored phase change %d -> %d\n",
                 st.model ? st.model->name().c_str() : "?", static_cast<int>(st.phase),
                 static_cast<int>(to));
    return;
  }
  st.phase = to;
}

// A request to the bus failed: wait and retry when the bus is out of reach,
// fail otherwise (it refused, e.g. its store failed).
void bus_failed(self_ptr self, caf::error err) {
  auto& st = self->state;
  if (!bus_lost(err)) {
    fail(self, std::move(err));
    return;
  }
  if (st.phase == projector_phase::detached)
    return;
  ++st.pull_epoch; // answers still under way are dropped
  st.pulls_in_flight = 0;
  release_held(st);
  if (st.phase == projector_phase::paused)
    return; // resuming subscribes again
  enter(st, projector_phase::detached);
  self->delayed_send(self, st.options.retry_delay, retry_atom::value,
                     st.bus_generation);
}

bool reset_model(self_ptr self);

// Forgets the processed ids and the read model's state, and pulls the log
// from seq 1 up to at least what was processed.
void start_rebuild(self_ptr self) {
  auto& st = self->state;
  st.catch_up_target = std::max(st.catch_up_target, st.processed.watermark());
  if (!reset_model(self))
    return;
  ++st.rebuilds;
  ++st.pull_epoch;
  st.pulls_in_flight = 0;
  // Paused or without a bus, it pulls once resumed or reconnected.
  if (st.phase == projector_phase::paused || st.phase == projector_phase::detached)
    return;
  enter(st, projector_phase::rebuilding);
  pull(self);
}

// Applies `work` and answers its push; false when it is suspended (its
// retry resumes) or the projector is failing.
bool finish_work(self_ptr self, internal::suspended_batch& work) {
  auto& st = self->state;
  switch (internal::apply_batch(self, work)) {
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
  if (work.promise)
    work.promise->deliver(std::move(work.ack));
  return true;
}

// Applies held pushes in order until one leaves a gap (then pulls again) or
// none is left (then the projector runs live).
void drain_held(self_ptr self) {
  auto& st = self->state;
  if (st.phase == projector_phase::paused || st.suspended)
    return; // resume drains, and so does the end of a suspended batch
  while (!st.held.empty()) {
    auto& h = st.held.front();
    if (h.covers_from > st.processed.watermark() + 1) {
      st.catch_up_target = h.covers_from - 1;
      if (st.phase == projector_phase::running)
        enter(st, projector_phase::catching_up);
      pull(self);
      return;
    }
    auto work = internal::make_work(h.batch, h.covers_to, h.promise, false);
    st.held.pop_front();
    if (!finish_work(self, work))
      return;
  }
  enter(st, projector_phase::running);
  auto waiting = std::move(st.waiting);
  st.waiting.clear();
  for (auto& rp : waiting)
    rp.deliver(status_of(self));
}

// Asks the bus for the events from `next_pull` on.
void request_range(self_ptr self) {
  auto& st = self->state;
  ++st.pulls_in_flight;
  // Never past the target: what comes after it arrives in held pushes,
  // which must find those events new to report them applied.
  auto max = std::min<std::uint64_t>(st.options.replay_batch,
                                     st.catch_up_target - st.next_pull + 1);
  self
    ->request(st.bus, st.options.bus_timeout, replay_atom::value, st.next_pull,
              static_cast<std::uint32_t>(max))
    .then(
      [self, epoch = st.pull_epoch](event_batch& batch) {
        auto& st = self->state;
        if (epoch != st.pull_epoch)
          return; // asked before a rebuild: its pull is under way
        --st.pulls_in_flight;
        if (batch.empty()) {
          // The log ends before the target: nothing more to read.
          st.catch_up_target = st.processed.watermark();
        } else {
          st.next_pull = batch.last_seq() + 1;
          // Keep one request ahead while this batch is applied, so that the
          // round trip to the bus overlaps the work.
          if (st.next_pull <= st.catch_up_target && st.pulls_in_flight == 0
              && st.phase != projector_phase::paused)
            request_range(self);
          auto work = internal::make_work(batch, batch.last_seq(), std::nullopt, true);
          auto outcome = internal::apply_batch(self, work);
          if (outcome == apply_outcome::suspended) {
            // Read-ahead answers are dropped: the retry pulls on from the
            // checkpoint once the batch is done.
            ++st.pull_epoch;
            st.pulls_in_flight = 0;
            return;
          }
          if (outcome == apply_outcome::failed)
            return;
        }
        if (st.pulls_in_flight == 0)
          pull(self);
      },
      [self](caf::error& err) { bus_failed(self, std::move(err)); });
}

void approach_head(self_ptr self);

// Reads the log from the checkpoint on until it reaches the catch-up target.
void pull(self_ptr self) {
  auto& st = self->state;
  if (st.pulls_in_flight > 0 || st.phase == projector_phase::paused
      || st.phase == projector_phase::detached || st.suspended)
    return;
  if (st.processed.watermark() >= st.catch_up_target) {
    if (st.subscribed)
      drain_held(self);
    else
      approach_head(self); // a shadow not yet subscribed
    return;
  }
  st.next_pull = st.processed.watermark() + 1;
  request_range(self);
}

// The state a status reports for a projector in phase `x`.
model_state state_of(projector_phase x) noexcept {
  switch (x) {
    case projector_phase::approaching:
    case projector_phase::catching_up:
      return model_state::catching_up;
    case projector_phase::rebuilding:
      return model_state::rebuilding;
    case projector_phase::running:
      return model_state::running;
    case projector_phase::detached:
      return model_state::disconnected;
    case projector_phase::paused:
      return model_state::paused;
  }
  return model_state::catching_up;
}

projector_status status_of(self_ptr self) {
  auto& st = self->state;
  projector_status result;
  result.model = st.model->name();
  result.state = state_of(st.phase);
  result.checkpoint = st.processed.watermark();
  result.checkpoint_timestamp = st.checkpoint_timestamp;
  result.applied = st.applied;
  result.skipped = st.skipped;
  result.ignored = st.ignored;
  result.replayed = st.replayed;
  result.rebuilds = st.rebuilds;
  result.parked = st.parked.size();
  return result;
}

// Answers with the status now, or once the current catch-up is done.
caf::result<projector_status> when_caught_up(self_ptr self) {
  auto& st = self->state;
  if (!behind(st.phase))
    return status_of(self);
  auto rp = self->make_response_promise<projector_status>();
  st.waiting.push_back(rp);
  return rp;
}

// Empties the read model, its processed ids and its table. Returns false
// (the projector is then failing) when the table cannot be cleared.
bool reset_model(self_ptr self) {
  auto& st = self->state;
  internal::abandon_suspended(st);
  st.model->reset();
  st.processed.clear();
  st.parked.clear();
  st.checkpoint_timestamp = 0;
  st.snapshot_seq = 0;
  if (st.table) {
    if (auto err = st.table->clear()) {
      fail(self, std::move(err));
      return false;
    }
  }
  return true;
}

// Registers with the bus, which answers with the head seq to catch up to.
void subscribe(self_ptr self) {
  auto& st = self->state;
  st.subscribed = true;
  // A rebuild under way stays one; every other phase catches up from here.
  if (st.phase != projector_phase::rebuilding)
    enter(st, projector_phase::catching_up);
  auto name = st.role == model_role::shadow ? st.model->name() + "~shadow"
                                            : st.model->name();
  self
    ->request(st.bus, st.options.bus_timeout, subscribe_atom::value,
              projector_actor{self}, std::move(name),
              st.model->event_types())
    .then(
      [self, generation = st.bus_generation](std::uint64_t head) {
        auto& st = self->state;
        if (generation != st.bus_generation)
          return; // subscribed to a bus it has left since
        if (head < st.processed.watermark()) {
          // The bus has fewer events than this model took: it lost its
          // log (restarted without a store). Its seqs now name other
          // events, so nothing projected so far can be trusted.
          st.catch_up_target = head;
          start_rebuild(self);
          return;
        }
        st.catch_up_target = std::max(st.catch_up_target, head);
        pull(self);
      },
      [self, generation = st.bus_generation](caf::error& err) {
        if (generation == self->state.bus_generation)
          bus_failed(self, std::move(err));
      });
}

// A shadow reads the log without subscribing, so that publishers never wait
// for its catch-up; it subscribes once it is within a replay batch of the
// head, and catches up the rest like any projector.
void approach_head(self_ptr self) {
  auto& st = self->state;
  if (st.asking_head)
    return;
  st.asking_head = true;
  self->request(st.bus, st.options.bus_timeout, head_atom::value)
    .then(
      [self](std::uint64_t head) {
        auto& st = self->state;
        st.asking_head = false;
        if (st.subscribed)
          return; // promoted meanwhile
        if (head <= st.processed.watermark() + st.options.replay_batch) {
          subscribe(self);
          return;
        }
        st.catch_up_target = std::max(st.catch_up_target, head);
        pull(self);
      },
      [self](caf::error& err) { fail(self, std::move(err)); });
}

// Applies a push or progress note announcing [covers_from, covers_to] now,
// or holds it while catching up (or when it shows a gap: then pulls first).
caf::result<delivery_ack> take_delivery(self_ptr self, event_batch batch,
                                        std::uint64_t covers_from,
                                        std::uint64_t covers_to) {
  auto& st = self->state;
  auto gap = covers_from > st.processed.watermark() + 1;
  if (st.phase == projector_phase::paused) // pulled after resuming
    return unapplied_ack(st);
  if (st.phase != projector_phase::running || !st.held.empty() || gap || st.suspended) {
    auto promise = self->make_response_promise<delivery_ack>();
    st.held.push_back({std::move(batch), covers_from, covers_to, promise});
    // Running, a gap sends it back to the log; behind a suspended batch it
    // only waits (drain_held finds any gap when it gets there).
    if (st.phase == projector_phase::running && gap && !st.suspended
        && st.held.size() == 1) {
      enter(st, projector_phase::catching_up);
      st.catch_up_target = covers_from - 1;
      pull(self);
    }
    return promise;
  }
  auto work = internal::make_work(std::move(batch), covers_to, std::nullopt, false);
  switch (internal::apply_batch(self, work)) {
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
  return std::move(work.ack);
}

// Tries the suspended batch again; once done, goes on where it stopped.
void resume_suspended(self_ptr self, std::uint64_t epoch) {
  auto& st = self->state;
  if (epoch != st.suspend_epoch || !st.suspended)
    return; // abandoned since
  auto work = std::move(*st.suspended);
  st.suspended.reset();
  if (!finish_work(self, work))
    return;
  if (st.phase == projector_phase::running)
    drain_held(self);
  else
    pull(self); // drains the held pushes once at the target
}

} // namespace

} // namespace bus::actors

namespace bus::internal {

void fail(projector_ptr self, caf::error reason) {
  auto& st = self->state;
  st.failure = reason;
  if (st.suspended && st.suspended->promise)
    st.suspended->promise->deliver(reason);
  st.suspended.reset();
  for (auto& h : st.held)
    h.promise.deliver(reason);
  st.held.clear();
  for (auto& rp : st.waiting)
    rp.deliver(reason);
  st.waiting.clear();
  self->quit(std::move(reason));
}

} // namespace bus::internal

namespace bus::actors {

projector_actor::behavior_type
projector_impl(projector_actor::stateful_pointer<projector_state> self,
               bus_actor bus, model_spec spec, projector_options options) {
  auto& st = self->state;
  st.bus = std::move(bus);
  st.options = options;
  self->set_default_handler(caf::drop);
  st.recovery = spec.recovery;
  st.parked = parking_lot{spec.recovery.order};
  try {
    st.model = spec.make();
    if (!st.model)
      st.failure = make_error(errc::invalid_config,
                              "read model '" + spec.name + "': factory made none");
  } catch (const std::exception& ex) {
    st.failure = make_error(errc::apply_failed, "read model '" + spec.name
                                                  + "' failed to start: "
                                                  + ex.what());
  }
  auto shadow = options.shadow;
  if (shadow) {
    st.role = model_role::shadow;
    st.phase = projector_phase::approaching;
  }
  // A shadow's model is new: whatever the store holds is not its state, and
  // its table (if any) belongs to the live model.
  if (!st.failure && !shadow && spec.storage == model_storage::sqlite
      && !st.options.models_path.empty())
    internal::open_table(self);
  else if (!st.failure && !st.options.snapshot_path.empty() && !shadow)
    internal::restore_snapshot(self);
  if (st.failure)
    self->quit(st.failure); // Handlers below never run then.
  else if (shadow)
    approach_head(self);
  else
    subscribe(self);
  return {
    [self](deliver_atom, event_batch& batch,
           std::uint64_t covers_from) -> caf::result<delivery_ack> {
      auto covers_to = batch.empty() ? covers_from - 1 : batch.last_seq();
      return take_delivery(self, std::move(batch), covers_from, covers_to);
    },
    [self](progress_atom, std::uint64_t from,
           std::uint64_t to) -> caf::result<delivery_ack> {
      return take_delivery(self, event_batch{}, from, to);
    },
    [self](query_atom, std::string& key) -> caf::result<query_result> {
      auto& st = self->state;
      auto& model = *st.model;
      // A model that is still catching up would answer from a past state.
      // Still catching up (or rebuilding) it would answer from a past state;
      // paused, it answers from its frozen state, and status shows the lag.
      if (behind(st.phase)) {
        auto what = std::string{st.phase == projector_phase::detached ? "waiting for its bus"
                                : st.phase == projector_phase::rebuilding ? "rebuilding"
                                                                          : "catching up"}
                    + " (at seq " + std::to_string(st.processed.watermark());
        if (st.catch_up_target > st.processed.watermark())
          what += " of " + std::to_string(st.catch_up_target);
        return make_error(errc::model_unavailable,
                          "read model '" + model.name() + "' is " + what + ")");
      }
      if (auto value = model.query(key))
        return query_result{model.name(), std::move(key), std::move(*value)};
      return make_error(errc::no_such_key, "read model '" + model.name()
                                             + "' has no key '" + key + "'");
    },
    [self](snapshot_atom) {
      auto& st = self->state;
      return model_snapshot{st.model->name(), st.processed.watermark(),
                            st.model->snapshot()};
    },
    [self](pause_atom) {
      auto& st = self->state;
      if (st.phase != projector_phase::paused) {
        enter(st, projector_phase::paused);
        // Answer held pushes unapplied: publishers must not wait for a
        // paused model. The log keeps the events for the resume.
        release_held(st);
        st.subscribed = false;
        self->request(st.bus, st.options.bus_timeout, unsubscribe_atom::value,
                      projector_actor{self})
          .then([](bool) {}, [](caf::error&) {});
      }
      return status_of(self);
    },
    [self](resume_atom) -> caf::result<projector_status> {
      auto& st = self->state;
      if (st.phase == projector_phase::paused)
        subscribe(self); // then pulls from the checkpoint to the head
      // Answered once caught up: "resumed" means running again.
      return when_caught_up(self);
    },
    [self](ready_atom) { return when_caught_up(self); },
    [self](rebuild_atom) {
      // Reproject everything processed so far; pushes that arrive meanwhile
      // are held and applied after it, in order.
      start_rebuild(self);
      return status_of(self);
    },
    [self](rebind_atom, caf::actor& bus) {
      auto& st = self->state;
      st.bus = caf::actor_cast<bus_actor>(bus);
      ++st.bus_generation;
      ++st.pull_epoch; // what the old bus still owes is dropped
      st.pulls_in_flight = 0;
      release_held(st);
      if (st.phase == projector_phase::paused)
        return; // resuming subscribes to the new bus
      subscribe(self); // then pulls from the checkpoint to the new head
    },
    [self](retry_atom, std::uint64_t generation) {
      auto& st = self->state;
      if (generation != st.bus_generation || st.phase != projector_phase::detached)
        return;
      subscribe(self);
    },
    [self](status_atom) { return status_of(self); },
    [self](promote_atom) -> caf::result<projector_status> {
      auto& st = self->state;
      // Own the model's snapshots from here, starting with one now: a
      // restart then restores this model's state, not its predecessor's.
      if (!st.options.snapshot_path.empty() && !st.snapshots
          && !internal::open_snapshots(self))
        return st.failure;
      if (st.snapshots) {
        internal::save_snapshot(self);
        if (st.failure)
          return st.failure;
      }
      if (st.role == model_role::shadow || st.phase == projector_phase::paused) {
        // Subscribe again under the model's name; the bus keeps a
        // subscriber's name, so leave first (in order: same sender).
        if (st.subscribed)
          self->request(st.bus, st.options.bus_timeout, unsubscribe_atom::value,
                        projector_actor{self})
            .then([](bool) {}, [](caf::error&) {});
        st.role = model_role::live;
        subscribe(self); // then pulls from the checkpoint to the head
      }
      return when_caught_up(self);
    },
    [self](parked_atom) { return internal::list_parked(self); },
    [self](unpark_atom, std::uint64_t seq) { return internal::retry_parked(self, seq); },
    [self](drop_parked_atom, std::uint64_t seq) {
      return internal::discard_parked(self, seq);
    },
    [self](reapply_atom, std::uint64_t epoch) { resume_suspended(self, epoch); },
    [self](demote_atom) {
      self->state.snapshots.reset();
      return status_of(self);
    },
  };
}

} // namespace bus::actors
