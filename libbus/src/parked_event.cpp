#include "bus/parked_event.hpp"

#include <chrono>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "bus/errc.hpp"
#include "bus/event_codec.hpp"

namespace bus {

const char* to_string(park_reason x) noexcept {
  switch (x) {
    case park_reason::failed:
      return "failed";
    case park_reason::behind:
      return "behind";
  }
  return "unknown";
}

std::optional<park_reason> park_reason_from_string(std::string_view x) noexcept {
  for (auto v : {park_reason::failed, park_reason::behind})
    if (x == to_string(v))
      return v;
  return std::nullopt;
}

std::int64_t now_ms() noexcept {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

boost::json::object to_json(const parked_event& x) {
  boost::json::object obj;
  obj["event"] = to_json(x.event);
  if (x.key)
    obj["key"] = *x.key;
  else
    obj["key"] = nullptr;
  obj["reason"] = to_string(x.reason);
  if (x.reason == park_reason::failed)
    obj["error"] = x.error;
  else
    obj["behind"] = x.behind;
  obj["attempts"] = x.attempts;
  obj["parked_at"] = x.parked_at;
  return obj;
}

namespace {

caf::error bad(const char* field, const char* expected) {
  return make_error(errc::invalid_event,
                    std::string{"parked event."} + field + ": expected " + expected);
}

// Reads an optional integer field of `obj` into `out`.
template <class Int>
bool read_number(const boost::json::object& obj, const char* field, Int& out) {
  auto* v = obj.if_contains(field);
  if (v == nullptr)
    return true;
  boost::system::error_code ec;
  out = v->to_number<Int>(ec);
  return !ec && !v->is_double();
}

} // namespace

caf::expected<parked_event> parked_event_from_json(const boost::json::value& v) {
  auto* obj = v.if_object();
  if (obj == nullptr)
    return make_error(errc::invalid_event, "parked event: expected an object");
  parked_event x;
  auto* ev = obj->if_contains("event");
  if (ev == nullptr)
    return bad("event", "an event");
  auto decoded = event_from_json(*ev);
  if (!decoded)
    return make_error(errc::invalid_event,
                      "parked event." + context_of(decoded.error()));
  x.event = std::move(*decoded);
  if (auto* key = obj->if_contains("key"); key != nullptr && !key->is_null()) {
    if (!key->is_string())
      return bad("key", "a string or null");
    x.key = std::string{key->get_string()};
  }
  auto* reason = obj->if_contains("reason");
  auto parsed = reason && reason->is_string()
                  ? park_reason_from_string(reason->get_string())
                  : std::nullopt;
  if (!parsed)
    return bad("reason", "\"failed\" or \"behind\"");
  x.reason = *parsed;
  if (auto* error = obj->if_contains("error")) {
    if (!error->is_string())
      return bad("error", "a string");
    x.error = std::string{error->get_string()};
  }
  if (!read_number(*obj, "behind", x.behind))
    return bad("behind", "a seq");
  if (!read_number(*obj, "attempts", x.attempts))
    return bad("attempts", "a non-negative integer");
  if (!read_number(*obj, "parked_at", x.parked_at))
    return bad("parked_at", "an integer");
  return x;
}

std::string parked_events_text(const std::vector<parked_event>& xs) {
  boost::json::array arr;
  arr.reserve(xs.size());
  for (auto& x : xs)
    arr.emplace_back(to_json(x));
  return boost::json::serialize(arr);
}

caf::expected<std::vector<parked_event>>
parked_events_from_text(std::string_view text) {
  std::vector<parked_event> result;
  if (text.empty())
    return result;
  boost::system::error_code ec;
  auto doc = boost::json::parse(text, ec);
  if (ec || !doc.is_array())
    return make_error(errc::invalid_event, "parked events: expected a JSON array");
  for (auto& v : doc.get_array()) {
    auto x = parked_event_from_json(v);
    if (!x)
      return x.error();
    result.push_back(std::move(*x));
  }
  return result;
}

} // namespace bus
