#include "config_upcasters.hpp"

#include "bus/errc.hpp"
#include "bus/log.hpp"

namespace bus::app {

bool install_upcasters(const bus_config& config, actors::projector_options& options,
                       const char* source) {
  if (config.upcasters.empty())
    return true;
  // Validated when the configuration was read; make() checks the whole
  // registry again, which C++ steps could otherwise have joined.
  auto upcasters = upcaster_registry::make(config.upcasters);
  if (!upcasters) {
    BUS_LOG(log_level::error, source,
            "bad configuration: " << context_of(upcasters.error()));
    return false;
  }
  options.upcasters = std::move(*upcasters);
  return true;
}

} // namespace bus::app
