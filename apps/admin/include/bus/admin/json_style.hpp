#pragma once

// JSON text in the style of the node's protocol (", " and ": " between
// items), written directly into a string: the node's replies and the admin
// endpoint's bodies share it, so the same data reads the same in both.

#include <string>
#include <string_view>

#include <boost/json/value.hpp>

namespace bus::admin {

/// Appends a JSON string literal.
void render_string(std::string& out, std::string_view s);

/// Appends `"name": `.
void render_key(std::string& out, std::string_view name);

/// Appends `v` in the protocol's style.
void render_json(std::string& out, const boost::json::value& v);

} // namespace bus::admin
