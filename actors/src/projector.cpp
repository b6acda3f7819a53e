#include "bus/actors/projector.hpp"

#include <exception>
#include <optional>

#include <caf/all.hpp>

#include "bus/errc.hpp"

namespace bus::actors {

namespace {

using self_ptr = projector_actor::stateful_pointer<projector_state>;

// Quits with `reason` and answers every held delivery with it, so that no
// publisher waits for a projector that is gone.
void fail(self_ptr self, caf::error reason) {
  self->state.failure = reason;
  for (auto& h : self->state.held)
    h.promise.deliver(reason);
  self->state.held.clear();
  for (auto& rp : self->state.waiting)
    rp.deliver(reason);
  self->state.waiting.clear();
  self->quit(std::move(reason));
}

// The reason a projector fails with when its model throws on `e`.
caf::error apply_failure(const read_model& model, const event& e,
                         std::string_view what) {
  return make_error(errc::apply_failed,
                    "read model '" + model.name() + "' failed on event '" + e.id
                      + "' (seq " + std::to_string(e.seq) + ", type " + e.type
                      + "): " + std::string{what});
}

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
  for (auto& h : st.held)
    h.promise.deliver(unapplied_ack(st));
  st.held.clear();
}

// Applies the events of `batch` that are new and of a handled type, then
// marks the batch's whole range processed. Returns nothing when read-model
// code threw (the projector is then failing).
std::optional<delivery_ack> apply_events(self_ptr self, const event_batch& batch,
                                         bool replaying) {
  auto& st = self->state;
  auto& model = *st.model;
  delivery_ack ack;
  for (std::uint32_t i = 0; i < batch.size(); ++i) {
    auto& e = batch[i];
    if (st.processed.contains(e.seq)) {
      if (model.handles(e.type)) {
        ++st.skipped;
        ack.skipped.push_back(i);
      }
      continue;
    }
    if (model.handles(e.type)) {
      try {
        if (model.apply(e)) {
          ++st.applied;
          if (replaying)
            ++st.replayed;
          ack.applied.push_back(i);
        } else {
          ++st.ignored;
        }
      } catch (const std::exception& ex) {
        fail(self, apply_failure(model, e, ex.what()));
        return std::nullopt;
      } catch (...) {
        fail(self, apply_failure(model, e, "unknown exception"));
        return std::nullopt;
      }
    }
    st.processed.insert(e.seq);
  }
  st.processed.advance_to(batch.last_seq());
  if (!batch.empty())
    st.checkpoint_timestamp = batch.back().timestamp;
  ack.checkpoint = st.processed.watermark();
  return ack;
}

void maybe_snapshot(self_ptr self);

bool commit_table(self_ptr self);

// Runs a batch hook; an exception from it fails the projector.
template <class F>
bool run_hook(self_ptr self, const char* which, F&& f) {
  try {
    f();
    return true;
  } catch (const std::exception& ex) {
    fail(self, make_error(errc::apply_failed, std::string{"batch hook '"} + which
                                                + "' of read model '"
                                                + self->state.model->name()
                                                + "' failed: " + ex.what()));
  } catch (...) {
    fail(self, make_error(errc::apply_failed, std::string{"batch hook '"} + which
                                                + "' failed: unknown exception"));
  }
  return false;
}

// apply_events between the batch hooks.
std::optional<delivery_ack> apply_batch(self_ptr self, const event_batch& batch,
                                        bool replaying) {
  auto& hooks = self->state.options.hooks;
  auto& model = *self->state.model;
  if (hooks.before && !batch.empty()
      && !run_hook(self, "before", [&] { hooks.before(model, batch); }))
    return std::nullopt;
  auto ack = apply_events(self, batch, replaying);
  // The rows, checkpoint and processed ids are durable before the ack.
  if (ack && self->state.table && !batch.empty() && !commit_table(self))
    return std::nullopt;
  if (ack && hooks.after && !batch.empty()
      && !run_hook(self, "after",
                   [&] { hooks.after(model, batch, ack->applied.size()); }))
    return std::nullopt;
  if (ack)
    maybe_snapshot(self); // after the hooks: a hook may be the commit
  if (self->state.failure)
    return std::nullopt;
  return ack;
}

void pull(self_ptr self);

projector_status status_of(self_ptr self);

// A request to the bus failed: wait and retry when the bus is out of reach,
// fail otherwise (it refused, e.g. its store failed).
void bus_failed(self_ptr self, caf::error err) {
  auto& st = self->state;
  if (!bus_lost(err)) {
    fail(self, std::move(err));
    return;
  }
  if (st.detached)
    return;
  st.detached = true;
  ++st.pull_epoch; // answers still under way are dropped
  st.pulls_in_flight = 0;
  st.catching_up = true;
  release_held(st);
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
  st.catching_up = true;
  st.rebuilding = true;
  ++st.rebuilds;
  ++st.pull_epoch;
  st.pulls_in_flight = 0;
  pull(self);
}

void save_snapshot(self_ptr self);

// Saves a snapshot once `snapshot_every` events were processed since the
// last one. Called between batches, where state and checkpoint agree.
void maybe_snapshot(self_ptr self) {
  auto& st = self->state;
  if (!st.snapshots || st.options.snapshot_every == 0
      || st.processed.watermark() < st.snapshot_seq + st.options.snapshot_every)
    return;
  save_snapshot(self);
}

// Saves a snapshot of the state now (between batches).
void save_snapshot(self_ptr self) {
  auto& st = self->state;
  snapshot x;
  x.checkpoint = st.processed.watermark();
  x.above = st.processed.sparse();
  x.definition = st.model->definition();
  x.state = internal::json_text(st.model->snapshot());
  if (auto err = st.snapshots->save(st.model->name(), x))
    fail(self, std::move(err)); // a store that cannot save is reported
  else
    st.snapshot_seq = x.checkpoint;
}

// Opens the snapshot store; false (and failing) when it cannot.
bool open_snapshots(self_ptr self) {
  auto& st = self->state;
  auto store = snapshot_store::open(st.options.snapshot_path);
  if (!store) {
    fail(self, store.error());
    return false;
  }
  st.snapshots = std::move(*store);
  return true;
}

// Restores the model's latest snapshot, if it fits the model's definition.
void restore_snapshot(self_ptr self) {
  auto& st = self->state;
  if (!open_snapshots(self))
    return;
  auto loaded = st.snapshots->load(st.model->name());
  if (!loaded) {
    fail(self, loaded.error());
    return;
  }
  if (!*loaded || (*loaded)->definition != st.model->definition())
    return; // none, or taken under another definition: rebuild from the log
  boost::json::value state;
  if (internal::parse_json_text((*loaded)->state, state) || !st.model->restore(state)) {
    st.model->reset();
    return;
  }
  st.processed.restore((*loaded)->checkpoint, (*loaded)->above);
  st.snapshot_seq = (*loaded)->checkpoint;
}

// Commits the rows the last batch changed with the checkpoint and the
// processed ids, in one transaction. Returns false (the projector is then
// failing) when the commit fails: the model is ahead of its table, and a
// replacement reloads the table's consistent state.
bool commit_table(self_ptr self) {
  auto& st = self->state;
  if (auto err = st.table->commit(*st.model, st.processed.watermark(),
                                  st.processed.sparse())) {
    fail(self, std::move(err));
    return false;
  }
  return true;
}

// Opens the model's table and loads its rows, checkpoint and processed ids.
void open_table(self_ptr self) {
  auto& st = self->state;
  auto& model = *st.model;
  if (!model.track_changes()) {
    st.failure = make_error(errc::invalid_config,
                            "read model '" + model.name()
                              + "' cannot persist to a table (it does not "
                                "track its changes): use memory storage");
    return;
  }
  auto table = model_table::open(st.options.models_path, model.name(),
                                 model.definition());
  if (!table) {
    st.failure = std::move(table.error());
    return;
  }
  auto loaded = (*table)->load();
  if (!loaded) {
    st.failure = std::move(loaded.error());
    return;
  }
  st.table = std::move(*table);
  if (!model.restore(loaded->rows)) {
    // Rows this model cannot take: start over from the log.
    model.reset();
    if (auto err = st.table->clear())
      st.failure = std::move(err);
    return;
  }
  st.processed.restore(loaded->checkpoint, loaded->above);
}

// Marks the rest of an announced range processed: the bus said that none
// of it up to `covers_to` is of interest to this projector.
void pass_to(projector_state& st, std::uint64_t covers_to, delivery_ack& ack) {
  if (covers_to <= st.processed.watermark())
    return;
  st.processed.advance_to(covers_to);
  ack.checkpoint = st.processed.watermark();
}

// Applies held pushes in order until one leaves a gap (then pulls again) or
// none is left (then the projector runs live).
void drain_held(self_ptr self) {
  auto& st = self->state;
  if (st.paused)
    return; // resume drains
  while (!st.held.empty()) {
    auto& h = st.held.front();
    if (h.covers_from > st.processed.watermark() + 1) {
      st.catch_up_target = h.covers_from - 1;
      st.catching_up = true;
      pull(self);
      return;
    }
    auto ack = apply_batch(self, h.batch, false);
    if (!ack)
      return;
    pass_to(st, h.covers_to, *ack);
    h.promise.deliver(std::move(*ack));
    st.held.pop_front();
  }
  st.catching_up = false;
  st.rebuilding = false;
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
              && !st.paused)
            request_range(self);
          if (!apply_batch(self, batch, true))
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
  if (st.pulls_in_flight > 0 || st.paused)
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

projector_status status_of(self_ptr self) {
  auto& st = self->state;
  projector_status result;
  result.model = st.model->name();
  result.state = st.paused        ? model_state::paused
                 : st.detached    ? model_state::disconnected
                 : st.rebuilding  ? model_state::rebuilding
                 : st.catching_up ? model_state::catching_up
                                  : model_state::running;
  result.checkpoint = st.processed.watermark();
  result.checkpoint_timestamp = st.checkpoint_timestamp;
  result.applied = st.applied;
  result.skipped = st.skipped;
  result.ignored = st.ignored;
  result.replayed = st.replayed;
  result.rebuilds = st.rebuilds;
  return result;
}

// Answers with the status now, or once the current catch-up is done.
caf::result<projector_status> when_caught_up(self_ptr self) {
  auto& st = self->state;
  if (!st.catching_up || st.paused)
    return status_of(self);
  auto rp = self->make_response_promise<projector_status>();
  st.waiting.push_back(rp);
  return rp;
}

// Empties the read model, its processed ids and its table. Returns false
// (the projector is then failing) when the table cannot be cleared.
bool reset_model(self_ptr self) {
  auto& st = self->state;
  st.model->reset();
  st.processed.clear();
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
  auto name = st.shadow ? st.model->name() + "~shadow" : st.model->name();
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
  if (st.paused) // taken by nothing now; pulled after resuming
    return unapplied_ack(st);
  if (st.catching_up || !st.held.empty() || gap) {
    auto promise = self->make_response_promise<delivery_ack>();
    st.held.push_back({std::move(batch), covers_from, covers_to, promise});
    if (!st.catching_up) {
      st.catching_up = true;
      st.catch_up_target = covers_from - 1;
      pull(self);
    }
    return promise;
  }
  auto ack = apply_batch(self, batch, false);
  if (!ack)
    return self->state.failure;
  pass_to(st, covers_to, *ack);
  return std::move(*ack);
}

} // namespace

projector_actor::behavior_type
projector_impl(projector_actor::stateful_pointer<projector_state> self,
               bus_actor bus, model_spec spec, projector_options options) {
  auto& st = self->state;
  st.bus = std::move(bus);
  st.options = options;
  self->set_default_handler(caf::drop);
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
  st.shadow = options.shadow;
  // A shadow's model is new: whatever the store holds is not its state, and
  // its table (if any) belongs to the live model.
  if (!st.failure && !st.shadow && spec.storage == model_storage::sqlite
      && !st.options.models_path.empty())
    open_table(self);
  else if (!st.failure && !st.options.snapshot_path.empty() && !st.shadow)
    restore_snapshot(self);
  if (st.failure)
    self->quit(st.failure); // Handlers below never run then.
  else if (st.shadow)
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
      if (st.catching_up && !st.paused) {
        auto what = std::string{st.detached     ? "waiting for its bus"
                                : st.rebuilding ? "rebuilding"
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
      if (!st.paused) {
        st.paused = true;
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
      if (st.paused) {
        st.paused = false;
        st.catching_up = true;
        subscribe(self); // then pulls from the checkpoint to the head
      }
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
      st.detached = false;
      ++st.pull_epoch; // what the old bus still owes is dropped
      st.pulls_in_flight = 0;
      release_held(st);
      if (st.paused)
        return; // resuming subscribes to the new bus
      st.catching_up = true;
      subscribe(self); // then pulls from the checkpoint to the new head
    },
    [self](retry_atom, std::uint64_t generation) {
      auto& st = self->state;
      if (generation != st.bus_generation || !st.detached)
        return;
      st.detached = false;
      if (!st.paused)
        subscribe(self);
    },
    [self](status_atom) { return status_of(self); },
    [self](promote_atom) -> caf::result<projector_status> {
      auto& st = self->state;
      // Own the model's snapshots from here, starting with one now: a
      // restart then restores this model's state, not its predecessor's.
      if (!st.options.snapshot_path.empty() && !st.snapshots
          && !open_snapshots(self))
        return st.failure;
      if (st.snapshots) {
        save_snapshot(self);
        if (st.failure)
          return st.failure;
      }
      if (st.shadow || st.paused) {
        // Subscribe again under the model's name; the bus keeps a
        // subscriber's name, so leave first (in order: same sender).
        if (st.subscribed)
          self->request(st.bus, st.options.bus_timeout, unsubscribe_atom::value,
                        projector_actor{self})
            .then([](bool) {}, [](caf::error&) {});
        st.shadow = false;
        st.paused = false;
        st.catching_up = true;
        subscribe(self); // then pulls from the checkpoint to the head
      }
      return when_caught_up(self);
    },
    [self](demote_atom) {
      self->state.snapshots.reset();
      return status_of(self);
    },
  };
}

} // namespace bus::actors
