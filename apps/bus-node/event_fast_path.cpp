#include "event_fast_path.hpp"

#include <cstdint>
#include <cstring>
#include <vector>

#include <simdjson.h>

#include "bus/event_id.hpp"

namespace bus::node {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

// Nesting within a payload this path builds; Boost.JSON refuses lines
// nested deeper than 32 (the payload sits at depth 4), simdjson does not.
constexpr int max_payload_depth = 16;

bool fill(boost::json::value& into, element from, int depth);

// Copies `from` into `into` (in `into`'s storage, field order kept).
bool fill_object(boost::json::object& into, simdjson::dom::object from, int depth) {
  if (depth > max_payload_depth)
    return false;
  into.reserve(from.size());
  for (auto field : from) {
    auto [at, inserted] = into.emplace(field.key, nullptr);
    if (!inserted) // a duplicate key: Boost.JSON keeps the last one
      return false;
    if (!fill(at->value(), field.value, depth))
      return false;
  }
  return true;
}

bool fill(boost::json::value& into, element from, int depth) {
  switch (from.type()) {
    case element_type::OBJECT: {
      simdjson::dom::object obj;
      return !from.get_object().get(obj)
             && fill_object(into.emplace_object(), obj, depth + 1);
    }
    case element_type::ARRAY: {
      simdjson::dom::array arr;
      if (depth + 1 > max_payload_depth || from.get_array().get(arr))
        return false;
      auto& out = into.emplace_array();
      for (auto x : arr)
        if (!fill(out.emplace_back(nullptr), x, depth + 1))
          return false;
      return true;
    }
    case element_type::STRING: {
      std::string_view s;
      if (from.get_string().get(s))
        return false;
      into.emplace_string().assign(s);
      return true;
    }
    case element_type::INT64: {
      std::int64_t x = 0;
      if (from.get_int64().get(x))
        return false;
      into = x;
      return true;
    }
    case element_type::UINT64: {
      std::uint64_t x = 0;
      if (from.get_uint64().get(x))
        return false;
      into = x;
      return true;
    }
    case element_type::BOOL: {
      bool x = false;
      if (from.get_bool().get(x))
        return false;
      into = x;
      return true;
    }
    case element_type::NULL_VALUE:
      into = nullptr;
      return true;
    case element_type::DOUBLE:
      // Boost.JSON 1.81 does not always round as simdjson does.
      return false;
  }
  return false;
}

// Reads the fields of `obj` named in `names` into `out` (same order);
// false when `obj` has another field or one twice.
template <std::size_t N>
bool read_fields(simdjson::dom::object obj, const std::string_view (&names)[N],
                 element (&out)[N], bool (&found)[N]) {
  for (auto field : obj) {
    std::size_t i = 0;
    while (i < N && names[i] != field.key)
      ++i;
    if (i == N || found[i])
      return false;
    found[i] = true;
    out[i] = field.value;
  }
  return true;
}

} // namespace

struct event_fast_path::impl {
  simdjson::dom::parser parser;
  // The line, followed by the padding simdjson reads past its end.
  std::vector<char> padded;
};

event_fast_path::event_fast_path() : impl_(std::make_unique<impl>()) {
  // nop
}

event_fast_path::~event_fast_path() {
  // nop
}

bool event_fast_path::parse(std::string_view line, request& req) {
  // Escapes are where parsers differ most (surrogates, NUL): not here.
  if (std::memchr(line.data(), '\\', line.size()) != nullptr)
    return false;
  auto& padded = impl_->padded;
  if (padded.size() < line.size() + simdjson::SIMDJSON_PADDING)
    padded.resize(line.size() + simdjson::SIMDJSON_PADDING);
  std::memcpy(padded.data(), line.data(), line.size());
  element root;
  if (impl_->parser.parse(padded.data(), line.size(), false).get(root))
    return false;
  simdjson::dom::object top;
  if (root.get_object().get(top))
    return false;
  // {"src": "...", "dest": "...", "body": {...}}
  static constexpr std::string_view line_fields[] = {"src", "dest", "body"};
  element at[3];
  bool found[3] = {};
  std::string_view src;
  std::string_view dest;
  simdjson::dom::object body;
  if (!read_fields(top, line_fields, at, found) || !found[0] || !found[1] || !found[2]
      || at[0].get_string().get(src) || at[1].get_string().get(dest)
      || at[2].get_object().get(body))
    return false;
  // "body": {"type": "event", "msg_id": integer, "event": {...}}
  static constexpr std::string_view body_fields[] = {"type", "msg_id", "event"};
  bool body_found[3] = {};
  std::string_view type;
  simdjson::dom::object ev;
  if (!read_fields(body, body_fields, at, body_found) || !body_found[0]
      || !body_found[1] || !body_found[2] || at[0].get_string().get(type)
      || type != "event" || at[2].get_object().get(ev))
    return false;
  auto msg_id = at[1];
  if (msg_id.type() != element_type::INT64 && msg_id.type() != element_type::UINT64)
    return false;
  // "event": {"type": "...", "id": "..." (optional), "payload": {...}}
  static constexpr std::string_view event_fields[] = {"type", "id", "payload"};
  bool event_found[3] = {};
  std::string_view ev_type;
  std::string_view ev_id;
  simdjson::dom::object payload;
  if (!read_fields(ev, event_fields, at, event_found) || !event_found[0]
      || !event_found[2] || at[0].get_string().get(ev_type) || ev_type.empty()
      || at[2].get_object().get(payload))
    return false;
  if (event_found[1] && (at[1].get_string().get(ev_id) || ev_id.empty()))
    return false;
  if (!fill_object(req.ev.payload.mutate(), payload, 1)) {
    req.ev.payload.clear();
    return false;
  }
  if (event_found[1]) {
    req.ev.id.assign(ev_id.data(), ev_id.size());
  } else if (auto derived = derive_event_id(req.ev.payload)) {
    req.ev.id = std::move(*derived);
    req.ev.id_derived = true;
  } else {
    req.ev.payload.clear();
    return false;
  }
  req.kind = request_kind::event;
  req.src.assign(src.data(), src.size());
  req.dest.assign(dest.data(), dest.size());
  std::int64_t signed_id = 0;
  std::uint64_t unsigned_id = 0;
  if (!msg_id.get_int64().get(signed_id))
    req.msg_id = signed_id;
  else if (!msg_id.get_uint64().get(unsigned_id))
    req.msg_id = unsigned_id;
  req.ev.type.assign(ev_type.data(), ev_type.size());
  return true;
}

} // namespace bus::node
