#pragma once

// JSON text in the style of the node's protocol (", " and ": " between
// items), written directly into a string: the node's replies and the admin
// endpoint's bodies share it, so the same data reads the same in both.

#include <cstddef>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

namespace bus::admin {

/// Appends a JSON string literal.
void render_string(std::string& out, std::string_view s);

/// Returns the most bytes the JSON string literal of `s` can take.
constexpr std::size_t max_string_size(std::string_view s) noexcept {
  return 6 * s.size() + 2; // every byte as \u00XX, and the quotes
}

/// Writes the JSON string literal of `s` at `p`, which has room for
/// max_string_size(s) bytes, and returns the end of what it wrote.
char* write_string(char* p, std::string_view s) noexcept;

/// Appends `"name": `.
void render_key(std::string& out, std::string_view name);

/// Returns `s` with each maximal part that is not UTF-8 replaced by U+FFFD,
/// for text from outside (a %-decoded path) that goes into JSON, which is
/// UTF-8: valid text passes unchanged.
std::string valid_utf8(std::string_view s);

/// Appends `v` in the protocol's style.
void render_json(std::string& out, const boost::json::value& v);

/// Appends `obj` in the protocol's style.
void render_json(std::string& out, const boost::json::object& obj);

} // namespace bus::admin
