#pragma once

// The node's fast path for its most common line: an event request in its
// plain form, read in one pass by bus::plain_json_reader (the envelope's
// strings as views, the payload straight into its record) instead of
// Boost.JSON. It takes only lines on which both agree by construction (no
// backslash escapes, no floating-point numbers, no duplicate keys, no other
// fields, shallow payloads) and leaves every other line to parse_request,
// so that replies and errors are byte for byte what Boost.JSON's parse gives.
// Used by the node's main thread only.

#include <memory>
#include <string_view>

#include "protocol.hpp"

namespace bus::node {

class event_fast_path {
public:
  event_fast_path();
  ~event_fast_path();

  /// Fills `req` (fresh) from `line` and returns true if `line` is an
  /// event request this path takes; otherwise returns false and leaves
  /// `req` fresh. The payload's bytes go to `arena` (the chunk's), which the
  /// payload keeps alive; its object is left in the heap's storage.
  bool parse(std::string_view line, request& req,
             const boost::json::storage_ptr& arena);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace bus::node
