#pragma once

// The configuration's declarative upcasters (internal to libbus): the
// "upcasters" array of a configuration, each entry one step that renames,
// moves and defaults payload fields and may rename the type. See
// docs/versioning.md for the shape.

#include <vector>

#include <boost/json/value.hpp>
#include <caf/expected.hpp>

#include "bus/upcasters.hpp"

namespace bus::internal {

/// Parses the "upcasters" array `v` into steps, validated as a whole (as
/// upcaster_registry::make does). Errors name the offending field under
/// "upcasters".
caf::expected<std::vector<upcaster>> parse_upcasters(const boost::json::value& v);

} // namespace bus::internal
