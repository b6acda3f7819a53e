#pragma once

// How the supervisor's requests about a model reach a projector: the
// model's live projector here, or (a routing supervisor) the node that
// serves it, as the bus's directory says; and what the caller hears when
// there is none, or when it went down before it answered. Runs in the
// supervisor's actor; the templates serve supervisor.cpp's handlers.

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include <caf/all.hpp>

#include "bus/errc.hpp"
#include "internal/partitioned.hpp"
#include "internal/shared_routing.hpp"
#include "internal/supervisor_state.hpp"
#include "internal/supervisor_status.hpp"

namespace bus::internal {

/// Why slot `s` has no projector to answer: it runs on another node of the
/// ones that share its model, or it is not running (and its last error).
caf::error unavailable(const actors::supervisor_state::slot& s);

/// What a projector that went down before it answered (a restart, rebuild
/// or failure replaced it meanwhile) tells its caller: not CAF's
/// "exit_reason(user_shutdown)", which reads like the node going down.
caf::error projector_gone(caf::error err, const std::string& model);

/// Refuses a lifecycle request from another node on the bus's node (a
/// routing supervisor whose peers are restricted).
caf::error refuse_peers(supervisor_ptr self, const char* what);

/// True when `model` runs on another node (routing only).
bool is_remote(supervisor_ptr self, const std::string& model);

/// Pauses or resumes the local projector of `model`; once it answers, the
/// intent holds for every later projector of the model (restarts, the
/// node's).
caf::result<actors::projector_status>
steer(supervisor_ptr self, caf::expected<actors::projector_actor> target,
      const std::string& model, actors::supervisor_state::intent x);

// Delegates to the model's live projector, or answers why there is none.
template <class T, class... Ts>
caf::result<T> forward(supervisor_ptr self,
                       caf::expected<actors::projector_actor> target, Ts&&... xs) {
  if (!target)
    return target.error();
  return self->delegate(*target, std::forward<Ts>(xs)...);
}

// Like forward, for a lifecycle request: a projector replaced meanwhile is
// answered for (projector_gone).
template <class T, class... Ts>
caf::result<T> forward_lifecycle(supervisor_ptr self,
                                 caf::expected<actors::projector_actor> target,
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

// Forwards a request about `model`, which does not run here, to the node
// that serves it, as the bus's directory says; every step has a timeout.
template <class T, class... Ts>
caf::result<T> forward_remote(supervisor_ptr self, const std::string& model, Ts... xs) {
  auto rp = self->make_response_promise<T>();
  auto timeout = self->state.routing->timeout;
  self->request(self->state.bus, timeout, actors::directory_atom::value)
    .then(
      [self, rp, model, timeout,
       xs...](std::vector<actors::node_entry>& nodes) mutable {
        // A model projector nodes share: its partitions are spread over them.
        if (auto n = shared_partitions(nodes, model)) {
          route_shared(self, rp, nodes, model, n, xs...);
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
          ->request(caf::actor_cast<actors::supervisor_actor>(n->supervisor), timeout,
                    std::move(xs)...)
          .then([rp](T& x) mutable { rp.deliver(std::move(x)); },
                [rp, model, node = n->node, timeout](caf::error& err) mutable {
                  rp.deliver(remote_failure(err, model, node, timeout));
                });
      },
      [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
  return rp;
}

// Delegates to the local projector of `model`, or to the node serving it.
template <class T, class Route, class Atom, class... Ts>
caf::result<T> dispatch(supervisor_ptr self, const Route& route, Atom atom,
                        std::string& model, Ts&&... xs) {
  if (is_remote(self, model))
    return forward_remote<T>(self, model, atom, model, std::forward<Ts>(xs)...);
  return forward<T>(self, route(model), atom, std::forward<Ts>(xs)...);
}

// dispatch for a lifecycle request (forward_lifecycle).
template <class T, class Route, class Atom, class... Ts>
caf::result<T> dispatch_lifecycle(supervisor_ptr self, const Route& route, Atom atom,
                                  std::string& model, Ts&&... xs) {
  if (is_remote(self, model))
    return forward_remote<T>(self, model, atom, model, std::forward<Ts>(xs)...);
  return forward_lifecycle<T>(self, route(model), model, atom, std::forward<Ts>(xs)...);
}

} // namespace bus::internal
