#pragma once

// Builds protocol requests and takes replies apart for the bus-node tests.
// Requests are written as JSON text so that a test reads like the protocol;
// replies are checked both as text (the protocol fixes their bytes) and as
// parsed Boost.JSON values.

#include "node_process.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace bus::node::test {

/// The src of every request the tests send (the dest of every reply).
constexpr std::string_view client_name = "client";
/// The dest of every request the tests send (the src of every reply).
constexpr std::string_view node_name = "node";

/// Returns a request line (ending in '\n') with the body `body`, a JSON
/// object's text, from `client_name` to `node_name`.
std::string request(std::string_view body);

/// Returns an event request line; `id` is left out when empty.
std::string event(long long msg_id, std::string_view type, std::string_view payload,
                  std::string_view id = {});

/// Returns a query request line.
std::string query(long long msg_id, std::string_view model, std::string_view key);

/// Returns a subscribe (or, with `type` "unsubscribe", an unsubscribe)
/// request line for `event_types`.
std::string subscribe(long long msg_id, const std::vector<std::string>& event_types,
                      std::string_view type = "subscribe");

/// Returns an init request line.
std::string init(long long msg_id);

/// One reply line of the node.
struct reply {
  /// The line as written, without '\n'.
  std::string line;
  /// The parsed line.
  boost::json::object envelope;
  /// The parsed body.
  boost::json::object body;

  /// Returns the text of the body: what follows `"body": ` up to the line's
  /// final '}'.
  std::string body_text() const;
  /// Returns body[name] as a string ("<missing>" or the JSON text when it
  /// is not a string, so that a failed check shows what was there).
  std::string text(std::string_view name) const;
  /// Returns body[name] serialized compactly ("<missing>" when absent).
  std::string json(std::string_view name) const;
  /// Returns body.in_reply_to as an integer; fails the test when it is not.
  long long in_reply_to() const;
};

/// Parses one reply line; fails the test when it is not a JSON object with
/// a body object.
reply parse_reply(const std::string& line);

/// Parses every stdout line of `result`; fails the test when a line is not
/// a JSON object with a body object.
std::vector<reply> replies_of(const process_result& result);

/// Runs the node on `input`, requires a clean exit (0) and returns the
/// replies; `args` go to its command line.
std::vector<reply> replies_to(std::string_view input,
                              const std::vector<std::string>& args = {});

} // namespace bus::node::test
