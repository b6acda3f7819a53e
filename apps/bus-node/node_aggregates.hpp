#pragma once

// The aggregate types bus-node is built with, chosen by its configuration's
// "commands" section (docs/commands.md). Today that is the shop's "order".

#include <vector>

#include <caf/expected.hpp>

#include "bus/aggregate.hpp"
#include "bus/config.hpp"

namespace bus::node {

/// Returns the types `settings` names, or errc::invalid_config naming one
/// the node does not know.
caf::expected<std::vector<aggregate_type>>
node_aggregates(const command_settings& settings);

} // namespace bus::node
