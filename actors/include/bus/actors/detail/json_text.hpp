#pragma once

// JSON values as text, for the message inspectors of messages.hpp (which
// are templates, so this is installed with them). Not an API for
// applications: bus/event_codec.hpp converts events.

#include <string>

#include <boost/json/fwd.hpp>
#include <caf/error.hpp>

namespace bus::detail {

/// Serializes `x` for inspectors.
std::string json_text(const boost::json::value& x);

/// Parses `text` into `x` for inspectors.
caf::error parse_json_text(const std::string& text, boost::json::value& x);

/// Parses `text` into the object `x` for inspectors.
caf::error parse_json_text(const std::string& text, boost::json::object& x);

} // namespace bus::detail
