// The projector's behavior (see projector.hpp): its start and the messages
// it takes, each handed to one of its parts (projector_parts.hpp).

#include "bus/actors/projector.hpp"

#include <exception>

#include <caf/all.hpp>

#include "bus/errc.hpp"
#include "bus/store_location.hpp"
#include "internal/model_code.hpp"
#include "internal/projector_parts.hpp"

namespace bus::actors {

using namespace bus::internal;

projector_actor::behavior_type
projector_impl(projector_actor::stateful_pointer<projector_state> self, bus_actor bus,
               model_spec spec, projector_options options) {
  auto& st = self->state;
  st.bus = std::move(bus);
  st.options = options;
  // PostgreSQL keeps rows as text: recorded as JSON lines for it.
  st.changes = change_recorder{
    options.snapshot_rows_at_most,
    is_postgres_uri(options.snapshot_path) ? row_form::json : row_form::record};
  self->set_default_handler(caf::drop);
  // Model code is called inside model_threw (model_code.hpp); what escapes
  // all the same is logged and fails the projector, never printed by CAF.
  self->set_exception_handler([self](std::exception_ptr& x) {
    return escaped_exception("projector", "read model '" + self->state.model_name + "'",
                             x);
  });
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
    else if (st.model->name() != spec.name)
      // Queries route by the spec's name, acks and status by the model's:
      // two names for one model answer wrong or not at all.
      st.failure = make_error(errc::invalid_config,
                              "read model '" + spec.name + "': its factory made a model"
                                + " named '" + st.model->name()
                                + "' (read_model::name() must be the spec's name)");
    else
      st.model_name = st.model->name();
  } catch (const std::exception& ex) {
    st.failure = make_error(errc::apply_failed, "read model '" + spec.name
                                                  + "' failed to start: " + ex.what());
  }
  auto shadow = options.shadow;
  if (shadow) {
    st.role = model_role::shadow;
    st.phase = projector_phase::approaching;
    // It marks what its model takes from its first event on: the projector
    // it replaces may leave any later batch unanswered (still retrying one,
    // or behind), also one this shadow pulled before it subscribed.
    st.took.emplace(st.processed.watermark());
  }
  // A shadow's model is new: whatever the store holds is not its state, and
  // its table (if any) belongs to the live model.
  if (spec.storage == model_storage::sqlite && !st.options.models_path.empty())
    st.storage = model_storage::sqlite;
  // The restore runs off the workers; the projector subscribes once done.
  if (!st.failure && !shadow && st.storage == model_storage::sqlite) {
    if (can_keep_table(self))
      start_restore(self, restore_source::table);
  } else if (!st.failure && !st.options.snapshot_path.empty() && !shadow) {
    enable_tracking(st);
    start_restore(self, restore_source::snapshots);
  }
  if (st.failure)
    self->quit(st.failure); // Handlers below never run then.
  else if (shadow)
    approach_head(self);
  else if (!restoring(st.phase))
    subscribe(self);
  // While restoring, every request but status and query waits: skipped, it
  // stays in the mailbox, in order, and is handled after the restore.
  auto restoring_now = [self] { return restoring(self->state.phase); };
  return {
    [self, restoring_now](deliver_atom, event_batch& batch,
                          std::uint64_t covers_from) -> caf::result<delivery_ack> {
      if (restoring_now())
        return caf::skip;
      auto covers_to = batch.empty() ? covers_from - 1 : batch.last_seq();
      return take_delivery(self, std::move(batch), covers_from, covers_to);
    },
    [self, restoring_now](progress_atom, std::uint64_t from,
                          std::uint64_t to) -> caf::result<delivery_ack> {
      if (restoring_now())
        return caf::skip;
      return take_delivery(self, event_batch{}, from, to);
    },
    [self](query_atom, std::string& key) { return answer_query(self, key); },
    [self, restoring_now](snapshot_atom) -> caf::result<model_snapshot> {
      if (restoring_now())
        return caf::skip;
      return answer_snapshot(self);
    },
    [self, restoring_now](pause_atom) -> caf::result<projector_status> {
      if (restoring_now())
        return caf::skip;
      internal::pause(self, projector_actor{});
      return keep_frozen(self);
    },
    [self, restoring_now](pause_atom,
                          std::uint64_t frozen_at) -> caf::result<projector_status> {
      if (restoring_now())
        return caf::skip;
      internal::pause(self, projector_actor{}, frozen_at);
      return keep_frozen(self);
    },
    [self, restoring_now](hold_atom,
                          std::uint64_t frozen_at) -> caf::result<projector_status> {
      if (restoring_now())
        return caf::skip;
      return internal::hold(self, frozen_at);
    },
    [self, restoring_now](pause_atom,
                          caf::actor& successor) -> caf::result<projector_status> {
      if (restoring_now())
        return caf::skip;
      return internal::pause(self, caf::actor_cast<projector_actor>(successor));
    },
    [self, restoring_now](freeze_atom) -> caf::result<projector_status> {
      if (restoring_now())
        return caf::skip;
      return internal::freeze(self);
    },
    [self, restoring_now](handed_over_atom, const std::vector<event_batch>& batches)
      -> caf::result<std::vector<delivery_ack>> {
      if (restoring_now())
        return caf::skip;
      return internal::took_of(self->state, batches);
    },
    [self, restoring_now](resume_atom) -> caf::result<projector_status> {
      if (restoring_now())
        return caf::skip;
      auto& state = self->state;
      if (state.phase == projector_phase::paused
          || state.phase == projector_phase::pausing)
        subscribe(self); // then pulls from the checkpoint to the head
      // Answered once caught up: "resumed" means running again.
      return when_caught_up(self);
    },
    [self, restoring_now](ready_atom) -> caf::result<projector_status> {
      if (restoring_now())
        return caf::skip;
      return when_caught_up(self);
    },
    [self, restoring_now](rebuild_atom) -> caf::result<projector_status> {
      if (restoring_now())
        return caf::skip;
      // Reproject everything processed so far; pushes that arrive meanwhile
      // are held and applied after it, in order.
      start_rebuild(self);
      return status_of(self);
    },
    [self, restoring_now](rebind_atom, caf::actor& new_bus) -> caf::result<void> {
      if (restoring_now())
        return caf::skip;
      rebind(self, caf::actor_cast<bus_actor>(new_bus));
      return caf::unit;
    },
    [self, restoring_now](retry_atom, std::uint64_t generation) -> caf::result<void> {
      if (restoring_now())
        return caf::skip;
      auto& state = self->state;
      if (generation != state.bus_generation)
        return caf::unit;
      if (state.phase == projector_phase::detached)
        subscribe(self);
      else if (state.phase == projector_phase::pausing)
        pull(self); // on up to where its model was paused
      return caf::unit;
    },
    [self](restored_atom) { finish_restore(self); },
    [self](status_atom) { return status_of(self); },
    [self, restoring_now](promote_atom) -> caf::result<projector_status> {
      if (restoring_now())
        return caf::skip;
      return promote(self);
    },
    [self, restoring_now](promote_atom, const parked_list& excused,
                          std::uint64_t through) -> caf::result<projector_status> {
      if (restoring_now())
        return caf::skip;
      // Its marks up to `through` stay: a batch the old projector leaves
      // unanswered may reach below it (one it was still retrying).
      if (auto err = internal::lacking(self->state, excused, through))
        return err;
      return promote(self);
    },
    [self, restoring_now](parked_atom) -> caf::result<parked_list> {
      if (restoring_now())
        return caf::skip;
      return internal::list_parked(self);
    },
    [self, restoring_now](parked_atom,
                          const parked_list& theirs) -> caf::result<parked_list> {
      if (restoring_now())
        return caf::skip;
      return internal::not_applied(self->state, theirs);
    },
    [self, restoring_now](unpark_atom, std::uint64_t seq) -> caf::result<parked_list> {
      if (restoring_now())
        return caf::skip;
      return internal::retry_parked(self, seq);
    },
    [self, restoring_now](drop_parked_atom,
                          std::uint64_t seq) -> caf::result<parked_list> {
      if (restoring_now())
        return caf::skip;
      return internal::discard_parked(self, seq);
    },
    [self, restoring_now](reapply_atom, std::uint64_t epoch) -> caf::result<void> {
      if (restoring_now())
        return caf::skip;
      resume_suspended(self, epoch);
      return caf::unit;
    },
    [self, restoring_now](commit_atom) -> caf::result<void> {
      if (restoring_now())
        return caf::skip;
      flush_table(self);
      return caf::unit;
    },
    [self, restoring_now](demote_atom) -> caf::result<projector_status> {
      if (restoring_now())
        return caf::skip;
      // Another projector takes the model, its table or snapshots over.
      if (!give_up_table(self))
        return self->state.failure;
      stop_snapshots(self->state);
      return status_of(self);
    },
    [self, restoring_now](await_atom, std::uint64_t seq) -> caf::result<void> {
      if (restoring_now())
        return caf::skip;
      watch_for(self, seq);
      return caf::unit;
    },
  };
}

projector_actor spawn_projector(caf::actor_system& sys, bus_actor bus, model_spec spec,
                                projector_options options) {
  return sys.spawn(projector_impl, std::move(bus), std::move(spec), std::move(options));
}

} // namespace bus::actors
