#include "bus/actors/supervisor.hpp"

#include <string>

#include <caf/all.hpp>

#include "bus/errc.hpp"
#include "bus/log.hpp"
#include "bus/partitions.hpp"
#include "internal/blue_green.hpp"
#include "internal/health.hpp"
#include "internal/partitioned.hpp"
#include "internal/peer_check.hpp"
#include "internal/restarts.hpp"
#include "internal/shared_pauses.hpp"
#include "internal/shared_routing.hpp"
#include "internal/supervisor_slots.hpp"
#include "internal/supervisor_await.hpp"
#include "internal/supervisor_status.hpp"

namespace bus::actors {

namespace {

using supervisor_self = supervisor_actor::stateful_pointer<supervisor_state>;

void on_down(supervisor_self self, const caf::down_msg& dm) {
  if (!internal::blue_green_down(self, dm))
    internal::live_down(self, dm);
}

caf::error unavailable(const supervisor_state::slot& s) {
  if (s.where != supervisor_state::placement::here)
    return make_error(errc::model_unavailable,
                      "read model '" + s.spec.name
                        + "' runs on another node of the ones that share its model");
  return make_error(errc::model_unavailable,
                    "read model '" + s.spec.name + "' is " + to_string(s.state)
                      + (s.last_error.empty() ? "" : ": " + s.last_error));
}

// Delegates to the model's live projector, or answers why there is none.
template <class T, class... Ts>
caf::result<T> forward(supervisor_self self, caf::expected<projector_actor> target,
                       Ts&&... xs) {
  if (!target)
    return target.error();
  return self->delegate(*target, std::forward<Ts>(xs)...);
}

// What a projector that went down before it answered (a restart, rebuild
// or failure replaced it meanwhile) tells its caller: not CAF's
// "exit_reason(user_shutdown)", which reads like the node going down.
caf::error projector_gone(caf::error err, const std::string& model) {
  if (code_of(err) != errc::none)
    return err;
  return make_error(errc::model_unavailable,
                    "read model '" + model
                      + "': its projector stopped before it answered (restarted, "
                        "rebuilt or failed meanwhile), so the request did not take "
                        "effect: send it again ("
                      + caf::to_string(err) + ")");
}

// Like forward, for a lifecycle request: a projector replaced meanwhile is
// answered for (projector_gone).
template <class T, class... Ts>
caf::result<T> forward_lifecycle(supervisor_self self,
                                 caf::expected<projector_actor> target,
                                 const std::string& model, Ts&&... xs) {
  if (!target)
    return target.error();
  auto rp = self->make_response_promise<T>();
  self->request(*target, caf::infinite, std::forward<Ts>(xs)...)
    .then([rp](T& x) mutable { rp.deliver(std::move(x)); },
          [rp, model](caf::error& err) mutable {
            rp.deliver(projector_gone(std::move(err), model));
          });
  return rp;
}

// Refuses a lifecycle request from another node on the bus's node (a
// routing supervisor whose peers are restricted).
caf::error refuse_peers(supervisor_self self, const char* what) {
  auto& routing = self->state.routing;
  if (!routing)
    return {};
  return bus::internal::check_peer(self, routing->peers, peer_role::unrestricted, what);
}

// True when `model` runs on another node (routing only).
bool is_remote(supervisor_self self, const std::string& model) {
  auto& st = self->state;
  return st.routing
         && std::none_of(st.slots.begin(), st.slots.end(),
                         [&](const auto& s) { return s.spec.name == model; });
}

// Forwards a request about `model`, which does not run here, to the node
// that serves it, as the bus's directory says; every step has a timeout.
template <class T, class... Ts>
caf::result<T> forward_remote(supervisor_self self, const std::string& model,
                              Ts... xs) {
  auto rp = self->make_response_promise<T>();
  auto timeout = self->state.routing->timeout;
  self->request(self->state.bus, timeout, directory_atom::value)
    .then(
      [self, rp, model, timeout, xs...](std::vector<node_entry>& nodes) mutable {
        // A model projector nodes share: its partitions are spread over them.
        if (auto n = internal::shared_partitions(nodes, model)) {
          internal::route_shared(self, rp, nodes, model, n, xs...);
          return;
        }
        // The last node to attach with the model serves it.
        auto n = std::find_if(nodes.rbegin(), nodes.rend(), [&](auto& x) {
          return std::find(x.models.begin(), x.models.end(), model) != x.models.end();
        });
        if (n == nodes.rend()) {
          rp.deliver(
            make_error(errc::no_such_model, "no read model named '" + model + "'"));
          return;
        }
        if (!n->supervisor) {
          rp.deliver(make_error(errc::model_unavailable,
                                "read model '" + model + "' is away: its node '"
                                  + n->node + "' is not connected"));
          return;
        }
        self
          ->request(caf::actor_cast<supervisor_actor>(n->supervisor), timeout,
                    std::move(xs)...)
          .then([rp](T& x) mutable { rp.deliver(std::move(x)); },
                [rp, model, node = n->node, timeout](caf::error& err) mutable {
                  rp.deliver(internal::remote_failure(err, model, node, timeout));
                });
      },
      [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
  return rp;
}

// Delegates to the local projector of `model`, or to the node serving it.
template <class T, class Route, class Atom, class... Ts>
caf::result<T> dispatch(supervisor_self self, const Route& route, Atom atom,
                        std::string& model, Ts&&... xs) {
  if (is_remote(self, model))
    return forward_remote<T>(self, model, atom, model, std::forward<Ts>(xs)...);
  return forward<T>(self, route(model), atom, std::forward<Ts>(xs)...);
}

// dispatch for a lifecycle request (forward_lifecycle).
template <class T, class Route, class Atom, class... Ts>
caf::result<T> dispatch_lifecycle(supervisor_self self, const Route& route, Atom atom,
                                  std::string& model, Ts&&... xs) {
  if (is_remote(self, model))
    return forward_remote<T>(self, model, atom, model, std::forward<Ts>(xs)...);
  return forward_lifecycle<T>(self, route(model), model, atom, std::forward<Ts>(xs)...);
}

// Pauses or resumes the local projector of `model`; once it answers, the
// intent holds for every later projector of the model (restarts, the node's).
caf::result<projector_status> steer(supervisor_self self,
                                    caf::expected<projector_actor> target,
                                    const std::string& model,
                                    supervisor_state::intent x) {
  if (!target)
    return std::move(target.error());
  auto rp = self->make_response_promise<projector_status>();
  auto reply = [self, rp, model, x](projector_status& s) mutable {
    // Where its frozen state is (nothing once resumed), kept with the intent.
    internal::keep_intent(self, model, x, internal::frozen_of(s));
    rp.deliver(std::move(s));
  };
  auto failed = [rp, model](caf::error& err) mutable {
    rp.deliver(projector_gone(std::move(err), model));
  };
  if (x == supervisor_state::intent::pause)
    self->request(*target, caf::infinite, pause_atom::value).then(reply, failed);
  else
    self->request(*target, caf::infinite, resume_atom::value).then(reply, failed);
  return rp;
}

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
