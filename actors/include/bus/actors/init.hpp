#pragma once

// The one function that registers every message type and error category of
// the framework. Every actor system that runs bus actors calls it, locally
// or on any node, so no node can miss a type.

#include <caf/actor_system_config.hpp>

namespace bus {

/// Registers the framework's message types and the "bus" error category.
void init(caf::actor_system_config& cfg);

} // namespace bus
