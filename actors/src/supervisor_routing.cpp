// How the supervisor's requests about a model reach a projector (see
// internal/supervisor_routing.hpp): the parts that are no templates.

#include "internal/supervisor_routing.hpp"

#include <algorithm>
#include <string>

#include <caf/all.hpp>

#include "bus/errc.hpp"
#include "internal/peer_check.hpp"
#include "internal/restarts.hpp"

namespace bus::internal {

using namespace actors;

caf::error unavailable(const supervisor_state::slot& s) {
  if (s.where != supervisor_state::placement::here)
    return make_error(errc::model_unavailable,
                      "read model '" + s.spec.name
                        + "' runs on another node of the ones that share its model");
  return make_error(errc::model_unavailable,
                    "read model '" + s.spec.name + "' is " + to_string(s.state)
                      + (s.last_error.empty() ? "" : ": " + s.last_error));
}

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

caf::error refuse_peers(supervisor_ptr self, const char* what) {
  auto& routing = self->state.routing;
  if (!routing)
    return {};
  return bus::internal::check_peer(self, routing->peers, peer_role::unrestricted, what);
}

bool is_remote(supervisor_ptr self, const std::string& model) {
  auto& st = self->state;
  return st.routing
         && std::none_of(st.slots.begin(), st.slots.end(),
                         [&](const auto& s) { return s.spec.name == model; });
}

caf::result<projector_status> steer(supervisor_ptr self,
                                    caf::expected<projector_actor> target,
                                    const std::string& model,
                                    supervisor_state::intent x) {
  if (!target)
    return std::move(target.error());
  auto rp = self->make_response_promise<projector_status>();
  auto reply = [self, rp, model, x](projector_status& s) mutable {
    // Where its frozen state is (nothing once resumed), kept with the intent;
    // one that this node's store or the bus did not keep is not acknowledged
    // as done (the error says so).
    auto frozen_at = internal::frozen_of(s);
    internal::keep_intent(self, model, x, frozen_at,
                          [rp, s = std::move(s)](caf::error err) mutable {
                            if (err)
                              rp.deliver(std::move(err));
                            else
                              rp.deliver(std::move(s));
                          });
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

} // namespace bus::internal
