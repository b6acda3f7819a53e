// The supervisor's behavior (see supervisor.hpp): its start, its stop, and
// the requests it takes, each routed to a projector
// (supervisor_routing.hpp) or handed to one of its parts.

#include "bus/actors/supervisor.hpp"

#include <string>

#include <caf/all.hpp>

#include "bus/errc.hpp"
#include "bus/log.hpp"
#include "bus/partitions.hpp"
#include "internal/blue_green.hpp"
#include "internal/health.hpp"
#include "internal/partitioned.hpp"
#include "internal/restarts.hpp"
#include "internal/shared_pauses.hpp"
#include "internal/supervisor_slots.hpp"
#include "internal/supervisor_await.hpp"
#include "internal/supervisor_routing.hpp"
#include "internal/supervisor_status.hpp"

namespace bus::actors {

namespace {

using supervisor_self = supervisor_actor::stateful_pointer<supervisor_state>;

void on_down(supervisor_self self, const caf::down_msg& dm) {
  if (!internal::blue_green_down(self, dm))
    internal::live_down(self, dm);
}

using internal::dispatch;
using internal::dispatch_lifecycle;
using internal::forward_remote;
using internal::is_remote;
using internal::refuse_peers;
using internal::steer;
using internal::unavailable;

supervisor_actor::behavior_type make_behavior(supervisor_self self, bus_actor bus,
                                              std::vector<model_spec> specs,
                                              supervision_policy policy,
                                              projector_options options,
                                              std::optional<remote_routing> routing);

} // namespace

supervisor_actor::behavior_type
supervisor_impl(supervisor_actor::stateful_pointer<supervisor_state> self,
                bus_actor bus, std::vector<model_spec> specs, supervision_policy policy,
                projector_options options) {
  return make_behavior(self, std::move(bus), std::move(specs), policy,
                       std::move(options), std::nullopt);
}

supervisor_actor::behavior_type
routing_supervisor_impl(supervisor_actor::stateful_pointer<supervisor_state> self,
                        bus_actor bus, std::vector<model_spec> specs,
                        supervision_policy policy, projector_options options,
                        remote_routing routing) {
  return make_behavior(self, std::move(bus), std::move(specs), policy,
                       std::move(options), routing);
}

namespace {

supervisor_actor::behavior_type make_behavior(supervisor_self self, bus_actor bus,
                                              std::vector<model_spec> specs,
                                              supervision_policy policy,
                                              projector_options options,
                                              std::optional<remote_routing> routing) {
  auto& st = self->state;
  st.bus = std::move(bus);
  st.policy = policy;
  st.options = options;
  st.routing = routing;
  self->set_default_handler(caf::drop);
  internal::make_slots(self, std::move(specs));
  internal::restore_pauses(self);
  for (std::size_t i = 0; i < st.slots.size(); ++i)
    if (st.slots[i].state != model_state::failed
        && st.slots[i].where == supervisor_state::placement::here)
      internal::start(self, i);
  self->set_down_handler([self](caf::down_msg& dm) { on_down(self, dm); });
  self->set_exit_handler([self](caf::exit_msg& em) {
    for (auto& s : self->state.slots)
      if (s.handle)
        self->send_exit(s.handle, em.reason);
    internal::stop_blue_green(self, em.reason);
    internal::drop_waits(self, em.reason);
    self->quit(em.reason);
  });
  // The live projector of `model`, or why there is none.
  auto route = [self](const std::string& model) -> caf::expected<projector_actor> {
    for (auto& s : self->state.slots) {
      if (s.spec.name != model)
        continue;
      if (!s.handle)
        return unavailable(s);
      return s.handle;
    }
    return make_error(errc::no_such_model, "no read model named '" + model + "'");
  };
  return {
    [self, route](query_atom, std::string& model,
                  std::string& key) -> caf::result<query_result> {
      if (auto n = internal::partitions_of(self->state, model))
        return internal::query_partition(self, model, n, std::move(key));
      return dispatch<query_result>(self, route, query_atom::value, model,
                                    std::move(key));
    },
    [self, route](snapshot_atom, std::string& model) -> caf::result<model_snapshot> {
      if (auto n = internal::partitions_of(self->state, model))
        return internal::snapshot_partitions(self, model, n);
      return dispatch<model_snapshot>(self, route, snapshot_atom::value, model);
    },
    [self, route](pause_atom, std::string& model) -> caf::result<projector_status> {
      if (auto err = refuse_peers(self, "pause"))
        return err;
      if (auto err = internal::refuse_in_hand_over(self->state, model, "pause"))
        return err;
      if (auto n = internal::partitions_of(self->state, model))
        return internal::steer_partitions(self, model, n,
                                          internal::partition_request::pause);
      if (is_remote(self, model)) // its own node keeps the pause
        return dispatch<projector_status>(self, route, pause_atom::value, model);
      return steer(self, route(model), model, supervisor_state::intent::pause);
    },
    [self, route](resume_atom, std::string& model) -> caf::result<projector_status> {
      if (auto err = refuse_peers(self, "resume"))
        return err;
      if (auto err = internal::refuse_in_hand_over(self->state, model, "resume"))
        return err;
      if (auto n = internal::partitions_of(self->state, model))
        return internal::steer_partitions(self, model, n,
                                          internal::partition_request::resume);
      if (is_remote(self, model))
        return dispatch<projector_status>(self, route, resume_atom::value, model);
      return steer(self, route(model), model, supervisor_state::intent::run);
    },
    [self, route](rebuild_atom, std::string& model) -> caf::result<projector_status> {
      if (auto err = refuse_peers(self, "rebuild"))
        return err;
      if (auto err = internal::refuse_in_hand_over(self->state, model, "rebuild"))
        return err;
      if (auto n = internal::partitions_of(self->state, model))
        return internal::steer_partitions(self, model, n,
                                          internal::partition_request::rebuild);
      return dispatch_lifecycle<projector_status>(self, route, rebuild_atom::value,
                                                  model);
    },
    [self, route](parked_atom, std::string& model) -> caf::result<parked_list> {
      if (auto err = refuse_peers(self, "parked"))
        return err;
      if (auto n = internal::partitions_of(self->state, model))
        return internal::name_a_partition(model, n, "list the parked events of");
      return dispatch<parked_list>(self, route, parked_atom::value, model);
    },
    [self, route](unpark_atom, std::string& model,
                  std::uint64_t seq) -> caf::result<parked_list> {
      if (auto err = refuse_peers(self, "unpark"))
        return err;
      if (auto err = internal::refuse_in_hand_over(self->state, model,
                                                   "retry parked events of"))
        return err;
      if (auto n = internal::partitions_of(self->state, model))
        return internal::name_a_partition(model, n, "retry parked events of");
      return dispatch_lifecycle<parked_list>(self, route, unpark_atom::value, model,
                                             seq);
    },
    [self, route](drop_parked_atom, std::string& model,
                  std::uint64_t seq) -> caf::result<parked_list> {
      if (auto err = refuse_peers(self, "drop_parked"))
        return err;
      if (auto n = internal::partitions_of(self->state, model))
        return internal::name_a_partition(model, n, "discard parked events of");
      return dispatch_lifecycle<parked_list>(self, route, drop_parked_atom::value,
                                             model, seq);
    },
    [self](shadow_atom, model_spec& spec,
           shadow_wait wait) -> caf::result<projector_status> {
      if (auto err = refuse_peers(self, "shadow"))
        return err;
      if (auto err = internal::refuse_partitioned_shadow(self->state, spec))
        return err;
      return internal::start_shadow(self, std::move(spec), wait);
    },
    [self](rollback_atom, std::string& model) -> caf::result<projector_status> {
      if (auto err = refuse_peers(self, "rollback"))
        return err;
      return internal::roll_back(self, model);
    },
    [self](discard_atom, std::string& model) -> caf::result<projector_status> {
      if (auto err = refuse_peers(self, "discard"))
        return err;
      return internal::discard(self, model);
    },
    [self](restart_atom, shadow_atom, std::uint64_t index, std::uint64_t generation) {
      internal::restart_shadow(self, index, generation);
    },
    [self](unpark_atom, shadow_atom, std::uint64_t index, std::uint64_t generation) {
      internal::retry_held(self, index, generation);
    },
    [self](status_atom) { return internal::collect_statuses(self); },
    [self](ready_atom) { return internal::collect_ready(self); },
    [self](restart_atom, std::uint64_t index, std::uint64_t generation) {
      internal::restart_due(self, index, generation);
    },
    [self](restart_atom, std::string& model) -> caf::result<projector_status> {
      if (auto err = refuse_peers(self, "restart"))
        return err;
      if (auto n = internal::partitions_of(self->state, model))
        return internal::steer_partitions(self, model, n,
                                          internal::partition_request::restart);
      if (is_remote(self, model))
        return forward_remote<projector_status>(self, model, restart_atom::value,
                                                model);
      auto& slots = self->state.slots;
      for (std::size_t i = 0; i < slots.size(); ++i)
        if (slots[i].spec.name == model)
          return internal::restart_model(self, i);
      return make_error(errc::no_such_model, "no read model named '" + model + "'");
    },
    [self](await_atom, std::uint64_t seq, std::string& model, caf::timespan timeout) {
      return internal::start_wait(self, seq, model, timeout);
    },
    [self](applied_atom, std::uint64_t checkpoint) {
      internal::on_applied(self, checkpoint);
    },
    [self](expire_atom, std::uint64_t id) {
      // Its own timer only: another node must not end a wait early.
      if (self->current_sender() == caf::actor_cast<caf::strong_actor_ptr>(self))
        internal::expire_wait(self, id);
    },
    [self](assign_atom, std::string& model, std::vector<std::uint32_t>& mine,
           std::vector<partition_pause>& pauses) {
      // Only the bus assigns (its node's peers are restricted otherwise).
      auto sender = self->current_sender();
      if (!sender || sender != caf::actor_cast<caf::strong_actor_ptr>(self->state.bus))
        return;
      internal::assign(self, model, mine, pauses);
    },
    [self](rebind_atom, bus_actor& new_bus) {
      if (refuse_peers(self, "rebind"))
        return;
      // Restarts use the new handle too.
      self->state.bus = new_bus;
      auto moved = caf::actor_cast<caf::actor>(new_bus);
      if (new_bus)
        internal::rejoin(self);
      for (auto& s : self->state.slots) {
        // Rebound once assigned, as the bus has it paused or not.
        if (new_bus && internal::awaits_assignment(self->state, s))
          continue;
        // Shadows and kept projectors read the same log: they move too.
        for (auto* p : {&s.handle, &s.previous, s.shadow ? &s.shadow->handle : nullptr})
          if (p && *p)
            self->send(*p, rebind_atom::value, moved);
      }
    },
  };
}

} // namespace

supervisor_actor spawn_supervisor(caf::actor_system& sys, bus_actor bus,
                                  std::vector<model_spec> specs,
                                  supervision_policy policy,
                                  projector_options options) {
  return sys.spawn(supervisor_impl, std::move(bus), std::move(specs), policy,
                   std::move(options));
}

supervisor_actor spawn_routing_supervisor(caf::actor_system& sys, bus_actor bus,
                                          std::vector<model_spec> specs,
                                          supervision_policy policy,
                                          projector_options options,
                                          remote_routing routing) {
  return sys.spawn(routing_supervisor_impl, std::move(bus), std::move(specs), policy,
                   std::move(options), routing);
}

} // namespace bus::actors
