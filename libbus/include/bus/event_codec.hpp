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

/// Returns false when `v` holds a number that is not finite: JSON text such
/// as 1e999 parses as infinity, which no JSON text can carry, so a value
/// holding one could not be written back.
bool finite_json(const boost::json::value& v) noexcept;

/// Returns false when the payload or the metadata of `e` holds a number
/// that is not finite (see finite_json), in either form of the payload.
bool finite_event(const event& e);

/// Decodes an event; fails with errc::invalid_event naming the bad field
/// (also a payload or metadata number that is not finite).
caf::expected<event> event_from_json(const boost::json::value& v);

} // namespace bus
