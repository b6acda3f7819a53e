#pragma once

// The check of peer_role (bus/actors/peer_role.hpp) inside a handler; never
// installed.

#include <caf/error.hpp>
#include <caf/fwd.hpp>

#include "bus/actors/peer_role.hpp"

namespace bus::internal {

/// Allows the message being handled when `role` grants `needed` (or more)
/// or when it comes from this node; otherwise logs a warning and returns
/// errc::forbidden, naming `what`. `needed` unrestricted: never from other
/// nodes.
caf::error check_peer(caf::local_actor* self, actors::peer_role role,
                      actors::peer_role needed, const char* what);

} // namespace bus::internal
