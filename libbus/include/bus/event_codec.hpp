#pragma once

// Event <-> JSON with Boost.JSON. The wire form is
// {"id","type","payload","seq","timestamp","schema_version","metadata"};
// only "type" and "payload" are required when decoding.

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <caf/expected.hpp>

#include "bus/event.hpp"

namespace bus {

/// Encodes `e` as a JSON object.
boost::json::object to_json(const event& e);

/// Decodes an event; fails with errc::invalid_event naming the bad field.
caf::expected<event> event_from_json(const boost::json::value& v);

} // namespace bus
