#pragma once

// The configuration's declarative upcasters as the registry every projector
// of an app shares (bus-node and bus-projector read the same config).

#include "bus/actors/projector.hpp"
#include "bus/config.hpp"

namespace bus::app {

/// Puts the registry of `config`'s upcasters into `options` (nothing when
/// it has none). Returns false, logging why as `source`, when they do not
/// form a registry: a configuration error (exit status 2).
bool install_upcasters(const bus_config& config, actors::projector_options& options,
                       const char* source);

} // namespace bus::app
