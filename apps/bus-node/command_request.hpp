#pragma once

// Parsing the `command` request of the node's protocol (docs/protocol.md,
// docs/commands.md); session_command.cpp sends it and renders the answer.

#include <string>

#include <boost/json/object.hpp>

#include "protocol.hpp"

namespace bus::node {

/// Longest stream id a command may name (it becomes part of event ids).
inline constexpr std::size_t max_stream_size = 256;

/// Turns the body {"type": "command", "command": NAME, "stream": ID,
/// "expected_version": N, "data": {...}} into `req` (kind command), or into
/// an error request saying which field is wrong.
void parse_command(boost::json::object& body, request& req);

} // namespace bus::node
