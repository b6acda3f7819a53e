#include "bus/actors/peer_role.hpp"

#include <caf/actor_control_block.hpp>
#include <caf/local_actor.hpp>

#include "bus/errc.hpp"
#include "bus/log.hpp"
#include "internal/peer_check.hpp"

namespace bus::actors {

std::string to_string(peer_role x) {
  switch (x) {
    case peer_role::projector:
      return "projector";
    case peer_role::publisher:
      return "publisher";
    case peer_role::unrestricted:
      return "unrestricted";
  }
  return "unknown";
}

std::optional<peer_role> parse_peer_role(std::string_view text) {
  for (auto x : {peer_role::projector, peer_role::publisher, peer_role::unrestricted})
    if (to_string(x) == text)
      return x;
  return std::nullopt;
}

} // namespace bus::actors

namespace bus::internal {

using actors::peer_role;

caf::error check_peer(caf::local_actor* self, peer_role role, peer_role needed,
                      const char* what) {
  if (role == peer_role::unrestricted || role >= needed)
    return {};
  auto& sender = self->current_sender();
  if (sender && sender->node() == self->node())
    return {};
  auto from = sender ? "node " + caf::to_string(sender->node())
                     : std::string{"no sender"};
  BUS_LOG(log_level::warning, self->name(),
          "refused " << what << " from " << from << " (peer role " << to_string(role)
                     << ")");
  return make_error(errc::forbidden, std::string{what}
                                       + " is not allowed to other nodes "
                                         "of role "
                                       + to_string(role));
}

} // namespace bus::internal
