#pragma once

// The one function that registers every message type and error category of
// the framework. Every actor system that runs bus actors calls it, locally
// or on any node, so no node can miss a type.

#include <caf/actor_system_config.hpp>

namespace bus {

/// Registers the framework's message types and the "bus" error category.
void init(caf::actor_system_config& cfg);

/// Sizes the scheduler at one worker per core: CAF 0.17 starts at least
/// four, and more workers than cores only add context switches.
void one_worker_per_core(caf::actor_system_config& cfg);

} // namespace bus
