#pragma once

// Small builders for core tests: JSON from text, events from a type and
// payload text.

#include <string>
#include <string_view>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "bus/event.hpp"

namespace bus::test {

inline boost::json::value json(std::string_view text) {
  return boost::json::parse(text);
}

inline boost::json::object json_object(std::string_view text) {
  return boost::json::parse(text).as_object();
}

/// An event with id "e-<type>" and the payload parsed from `payload_text`.
inline event make_event(std::string type, std::string_view payload_text) {
  event e;
  e.id = "e-" + type;
  e.type = std::move(type);
  e.payload = boost::json::parse(payload_text).as_object();
  return e;
}

} // namespace bus::test
