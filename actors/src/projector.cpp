// The projector's behavior, its phases and status (see projector.hpp); the
// catch-up, apply and store parts live beside it (projector_parts.hpp).

#include "bus/actors/projector.hpp"

#include <exception>
#include <optional>

#include <caf/all.hpp>

#include "bus/errc.hpp"
#include "bus/log.hpp"
#include "internal/projector_parts.hpp"

namespace bus::internal {

using namespace actors;

// An acknowledgement that applies nothing: the events come back later from
// the log (a paused projector answers pushes with it).
delivery_ack unapplied_ack(const projector_state& st) {
  delivery_ack ack;
  ack.checkpoint = st.processed.watermark();
  return ack;
}

namespace {

// True when a projector may move from phase `from` to `to` (projector.hpp
// lists the moves).
constexpr bool allowed(projector_phase from, projector_phase to) noexcept {
  using p = projector_phase;
  switch (to) {
    case p::approaching:
      return false; // only a new shadow starts there
    case p::catching_up:
      return from != p::rebuilding;
    case p::filling_gap:
      return from == p::running || from == p::frozen;
    case p::rebuilding:
      return from != p::paused;
    case p::running:
      return from == p::catching_up || from == p::rebuilding || from == p::filling_gap
             || from == p::frozen;
    case p::detached:
      return from != p::paused;
    case p::paused:
      return true;
    case p::frozen:
      return from != p::paused;
  }
  return false;
}

} // namespace

void enter(projector_state& st, projector_phase to) {
  if (st.phase == to)
    return;
  // A move outside the list is a bug in this file; keep the phase rather
  // than enter a state nobody designed for.
  if (!allowed(st.phase, to)) {
    BUS_LOG(log_level::error, "projector",
            "read model '" << (st.model ? st.model->name() : std::string{"?"})
                           << "': ignored phase change " << static_cast<int>(st.phase)
                           << " -> " << static_cast<int>(to));
    return;
  }
  st.phase = to;
}

namespace {

// The state a status reports for a projector in phase `x`.
model_state state_of(projector_phase x) noexcept {
  switch (x) {
    case projector_phase::approaching:
    case projector_phase::catching_up:
    case projector_phase::filling_gap:
      return model_state::catching_up;
    case projector_phase::rebuilding:
      return model_state::rebuilding;
    case projector_phase::running:
    case projector_phase::frozen: // still the live one, for a few messages
      return model_state::running;
    case projector_phase::detached:
      return model_state::disconnected;
    case projector_phase::paused:
      return model_state::paused;
  }
  return model_state::catching_up;
}

} // namespace

projector_status status_of(projector_ptr self) {
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
  result.apply_latency = st.apply_latency;
  // Its own mailbox, read from inside its own handler (never another's).
  result.mailbox = self->mailbox().size();
  return result;
}

void tell_watcher(projector_ptr self) {
  auto& st = self->state;
  auto checkpoint = st.processed.watermark();
  if (st.watch == 0 || checkpoint < st.watch || !st.watcher)
    return;
  st.watch = 0;
  self->send(st.watcher, applied_atom::value, checkpoint);
}

// Answers with the status now, or once the current catch-up is done.
caf::result<projector_status> when_caught_up(projector_ptr self) {
  auto& st = self->state;
  if (!behind(st.phase))
    return status_of(self);
  auto rp = self->make_response_promise<projector_status>();
  st.waiting.push_back(rp);
  return rp;
}

// Empties the read model, its processed ids and its table. Returns false
// (the projector is then failing) when the table cannot be cleared.
bool reset_model(projector_ptr self) {
  auto& st = self->state;
  // What was applied is acknowledged once committed, before it is cleared.
  if (!flush_table(self))
    return false;
  internal::abandon_suspended(st);
  st.model->reset();
  st.processed.clear();
  st.parked.clear();
  st.dropped.clear();
  if (st.took) // its marks name events applied before the reset
    st.took.emplace(0);
  st.checkpoint_timestamp = 0;
  st.snapshot_seq = 0;
  restart_capture(st);
  if (st.table) {
    if (auto err = st.table->clear()) {
      fail(self, std::move(err));
      return false;
    }
  }
  return true;
}

namespace {

// Subscribes under the model's name (a promote).
void go_live(projector_ptr self) {
  auto& st = self->state;
  if (st.phase == projector_phase::frozen) {
    thaw(self); // promoted back: its switch was held
    return;
  }
  if (st.role == model_role::shadow || st.phase == projector_phase::paused) {
    // Subscribe again under the model's name; the bus keeps a subscriber's
    // name, so leave first (in order: same sender).
    if (st.subscribed)
      self
        ->request(st.bus, st.options.bus_timeout, unsubscribe_atom::value,
                  projector_actor{self})
        .then([](bool) {}, [](caf::error&) {});
    st.role = model_role::live;
    subscribe(self); // then pulls from the checkpoint to the head
  }
}

// Becomes the model's live projector; answered once caught up.
caf::result<projector_status> promote(projector_ptr self) {
  auto& state = self->state;
  // A model in a table has its table, not snapshots (they would take the
  // changed keys its commits write). A projector switching in, or promoted
  // back, writes its whole state there first: a restart then loads this
  // model's rows, not its predecessor's, even under the same definition().
  auto in_table = state.storage == model_storage::sqlite;
  if (in_table && !state.table && !take_over_table(self))
    return state.failure;
  if (in_table || state.options.snapshot_path.empty()) {
    go_live(self);
    return when_caught_up(self); // answered once caught up
  }
  // Own the model's snapshots from here, starting with one now: a
  // restart then restores this model's state, not its predecessor's.
  // Live only once that snapshot is written.
  if (state.snapshots == snapshot_basis::off && !own_snapshots(self))
    return state.failure;
  auto rp = self->make_response_promise<projector_status>();
  take_snapshot(self, [self, rp](const caf::error& err) mutable {
    if (err) {
      rp.deliver(err);
      return;
    }
    go_live(self);
    if (behind(self->state.phase))
      self->state.waiting.push_back(rp);
    else
      rp.deliver(status_of(self));
  });
  return rp;
}

} // namespace

void fail(projector_ptr self, caf::error reason) {
  auto& st = self->state;
  // The batches applied since the last commit: committed on the way out
  // (state and checkpoint agree between messages), unless the failure is
  // the table's own; their pushes are answered with the outcome.
  if (st.table) {
    auto err = st.failure;
    if (!err && st.table_state == table_sync::commit_due)
      err = st.table->commit(*st.model, st.processed.watermark(), st.processed.sparse(),
                             &st.parked);
    st.table_state = table_sync::committed;
    answer_uncommitted(st, err);
  }
  // A last snapshot, written before the writer quits: state and checkpoint
  // agree between messages, and a restart then pulls only what came after
  // (not if the failure came from taking one: then st.failure is set).
  if (st.snapshots != snapshot_basis::off && !st.failure) {
    st.failure = reason;
    take_snapshot(self);
  }
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
  auto snapshot_waiting = std::move(st.snapshot_waiting);
  st.snapshot_waiting.clear();
  for (auto& [number, done] : snapshot_waiting)
    done(reason);
  self->quit(std::move(reason));
}

} // namespace bus::internal

namespace bus::actors {

using namespace bus::internal;

projector_actor::behavior_type
projector_impl(projector_actor::stateful_pointer<projector_state> self, bus_actor bus,
               model_spec spec, projector_options options) {
  auto& st = self->state;
  st.bus = std::move(bus);
  st.options = options;
  st.changes = change_recorder{options.snapshot_rows_at_most};
  self->set_default_handler(caf::drop);
  // Stopped on purpose (a restart, a discard, a shutdown), it answers what
  // it holds with the reason, so that nobody waits for a projector that is
  // gone (a kill cannot be trapped, but then the caller's monitor tells).
  self->set_exit_handler([self](caf::exit_msg& em) { fail(self, em.reason); });
  if (options.owner) {
    self->monitor(options.owner);
    self->set_down_handler([self](caf::down_msg& dm) {
      if (dm.source == self->state.options.owner)
        fail(self, dm.reason ? dm.reason : caf::error{caf::exit_reason::user_shutdown});
    });
  }
  st.recovery = spec.recovery;
  st.upcasters = spec.upcasters ? spec.upcasters : options.upcasters;
  if (st.upcasters && st.upcasters->empty())
    st.upcasters = nullptr; // nothing to look up per event
  st.parked = parking_lot{spec.recovery.order};
  try {
    st.model = spec.make();
    if (!st.model)
      st.failure = make_error(errc::invalid_config,
                              "read model '" + spec.name + "': factory made none");
  } catch (const std::exception& ex) {
    st.failure = make_error(errc::apply_failed, "read model '" + spec.name
                                                  + "' failed to start: " + ex.what());
  }
  auto shadow = options.shadow;
  if (shadow) {
    st.role = model_role::shadow;
    st.phase = projector_phase::approaching;
  }
  // A shadow's model is new: whatever the store holds is not its state, and
  // its table (if any) belongs to the live model.
  if (spec.storage == model_storage::sqlite && !st.options.models_path.empty())
    st.storage = model_storage::sqlite;
  if (!st.failure && !shadow && st.storage == model_storage::sqlite)
    internal::open_table(self);
  else if (!st.failure && !st.options.snapshot_path.empty() && !shadow)
    internal::start_snapshots(self);
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
      auto& state = self->state;
      auto& model = *state.model;
      // A model that is still catching up would answer from a past state.
      // Still catching up (or rebuilding) it would answer from a past state;
      // paused, it answers from its frozen state, and status shows the lag.
      // Filling a gap, it holds every event acknowledged for it: later ones
      // it has not seen yet are as in flight to a running projector.
      if (!answers_queries(state.phase)) {
        auto what = std::string{state.phase == projector_phase::detached
                                  ? "waiting for its bus"
                                : state.phase == projector_phase::rebuilding
                                  ? "rebuilding"
                                  : "catching up"}
                    + " (at seq " + std::to_string(state.processed.watermark());
        if (state.catch_up_target > state.processed.watermark())
          what += " of " + std::to_string(state.catch_up_target);
        return make_error(errc::model_unavailable,
                          "read model '" + model.name() + "' is " + what + ")");
      }
      if (auto value = model.query(key))
        return query_result{model.name(), std::move(key), std::move(*value)};
      return make_error(errc::no_such_key,
                        "read model '" + model.name() + "' has no key '" + key + "'");
    },
    [self](snapshot_atom) {
      auto& state = self->state;
      return model_snapshot{state.model->name(), state.processed.watermark(),
                            state.model->snapshot()};
    },
    [self](pause_atom) { return internal::pause(self, projector_actor{}); },
    [self](pause_atom, caf::actor& successor) {
      return internal::pause(self, caf::actor_cast<projector_actor>(successor));
    },
    [self](freeze_atom) { return internal::freeze(self); },
    [self](handed_over_atom, const std::vector<event_batch>& batches) {
      return internal::took_of(self->state, batches);
    },
    [self](resume_atom) -> caf::result<projector_status> {
      auto& state = self->state;
      if (state.phase == projector_phase::paused)
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
    [self](rebind_atom, caf::actor& new_bus) {
      auto& state = self->state;
      state.bus = caf::actor_cast<bus_actor>(new_bus);
      ++state.bus_generation;
      drop_pulls(state); // what the old bus still owes is dropped
      release_held(state);
      if (state.phase == projector_phase::paused)
        return; // resuming subscribes to the new bus
      if (state.phase == projector_phase::frozen) {
        state.thaw_to = projector_phase::detached; // the thaw subscribes
        return;
      }
      subscribe(self); // then pulls from the checkpoint to the new head
    },
    [self](retry_atom, std::uint64_t generation) {
      auto& state = self->state;
      if (generation != state.bus_generation
          || state.phase != projector_phase::detached)
        return;
      subscribe(self);
    },
    [self](status_atom) { return status_of(self); },
    [self](promote_atom) { return promote(self); },
    [self](promote_atom, const parked_list& excused,
           std::uint64_t through) -> caf::result<projector_status> {
      // The old projector holds only pushes past `through`.
      if (auto& took = self->state.took)
        took->forget_through(through);
      if (auto err = internal::lacking(self->state, excused, through))
        return err;
      return promote(self);
    },
    [self](parked_atom) { return internal::list_parked(self); },
    [self](parked_atom, const parked_list& theirs) {
      return internal::not_applied(self->state, theirs);
    },
    [self](unpark_atom, std::uint64_t seq) {
      return internal::retry_parked(self, seq);
    },
    [self](drop_parked_atom, std::uint64_t seq) {
      return internal::discard_parked(self, seq);
    },
    [self](reapply_atom, std::uint64_t epoch) { resume_suspended(self, epoch); },
    [self](commit_atom) { flush_table(self); },
    [self](demote_atom) -> caf::result<projector_status> {
      // Another projector takes the model, its table or snapshots over.
      if (!give_up_table(self))
        return self->state.failure;
      stop_snapshots(self->state);
      return status_of(self);
    },
    [self](await_atom, std::uint64_t seq) {
      // A push, not a response promise: the supervisor keeps every wait (and
      // its deadline) and asks its projector only for the lowest seq, so a
      // projector holds one watch whatever the number of waiters, and a
      // restart loses nothing the supervisor cannot ask the new one again.
      auto& state = self->state;
      state.watcher = caf::actor_cast<supervisor_actor>(self->current_sender());
      if (seq == 0) { // nothing to wait for (0 is "no watch" below)
        self->send(state.watcher, applied_atom::value, state.processed.watermark());
        return;
      }
      state.watch = seq;
      tell_watcher(self);
    },
  };
}

projector_actor spawn_projector(caf::actor_system& sys, bus_actor bus, model_spec spec,
                                projector_options options) {
  return sys.spawn(projector_impl, std::move(bus), std::move(spec), std::move(options));
}

} // namespace bus::actors
