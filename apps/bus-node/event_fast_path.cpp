#include "event_fast_path.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <simdjson.h>

#include "bus/event_id.hpp"
#include "bus/payload_writer.hpp"
#include "bus/string_keys.hpp"

namespace bus::node {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

// Nesting within a payload this path builds; Boost.JSON refuses lines
// nested deeper than 32 (the payload sits at depth 4), simdjson does not.
constexpr int max_payload_depth = 16;

// The keys of the objects being written, to find a duplicate: Boost.JSON
// keeps the last of them, a record would keep both.
using key_list = std::vector<std::string_view>;

// Objects up to this size are checked for a duplicate key pairwise.
constexpr std::size_t pairwise_keys = 16;

bool duplicate_among(key_list& keys, std::size_t first) {
  auto n = keys.size() - first;
  if (n <= pairwise_keys) {
    for (auto i = first; i < keys.size(); ++i)
      for (auto j = i + 1; j < keys.size(); ++j)
        if (keys[i] == keys[j])
          return true;
    return false;
  }
  key_list sorted(keys.begin() + static_cast<std::ptrdiff_t>(first), keys.end());
  std::sort(sorted.begin(), sorted.end());
  return std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end();
}

bool write_value(payload_writer& out, element from, int depth, key_list& keys);

// Writes `from` in the record form (field order kept); false on what this
// path leaves to Boost.JSON: a duplicate key, a double, deep nesting.
bool write_object(payload_writer& out, simdjson::dom::object from, int depth,
                  key_list& keys) {
  auto n = from.size();
  if (depth > max_payload_depth || n >= 0xFFFFFF) // simdjson's count saturates
    return false;
  out.begin_object(n);
  auto first = keys.size();
  for (auto field : from) {
    keys.push_back(field.key);
    out.key(field.key);
    if (!write_value(out, field.value, depth, keys))
      return false;
  }
  auto unique = !duplicate_among(keys, first);
  keys.resize(first);
  return unique;
}

bool write_value(payload_writer& out, element from, int depth, key_list& keys) {
  switch (from.type()) {
    case element_type::OBJECT: {
      simdjson::dom::object obj;
      return !from.get_object().get(obj) && write_object(out, obj, depth + 1, keys);
    }
    case element_type::ARRAY: {
      simdjson::dom::array arr;
      if (depth + 1 > max_payload_depth || from.get_array().get(arr))
        return false;
      auto n = arr.size();
      if (n >= 0xFFFFFF)
        return false;
      out.begin_array(n);
      for (auto x : arr)
        if (!write_value(out, x, depth + 1, keys))
          return false;
      return true;
    }
    case element_type::STRING: {
      std::string_view s;
      if (from.get_string().get(s))
        return false;
      out.string(s);
      return true;
    }
    case element_type::INT64: {
      std::int64_t x = 0;
      if (from.get_int64().get(x))
        return false;
      out.int64(x);
      return true;
    }
    case element_type::UINT64: {
      std::uint64_t x = 0;
      if (from.get_uint64().get(x))
        return false;
      out.uint64(x);
      return true;
    }
    case element_type::BOOL: {
      bool x = false;
      if (from.get_bool().get(x))
        return false;
      out.boolean(x);
      return true;
    }
    case element_type::NULL_VALUE:
      out.null();
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
  string_equal eq; // in place, no memcmp call for these short names
  for (auto field : obj) {
    std::size_t i = 0;
    while (i < N && !eq(names[i], field.key))
      ++i;
    if (i == N || found[i])
      return false;
    found[i] = true;
    out[i] = field.value;
  }
  return true;
}

// Sets `s` to `x` (not a part of `s`). libstdc++'s assign takes the
// general replace path, with its checks for overlap, at about twice the
// cost of an append to the cleared string.
void set_text(std::string& s, std::string_view x) {
  s.clear();
  s.append(x.data(), x.size());
}

} // namespace

struct event_fast_path::impl {
  simdjson::dom::parser parser;
  // The line, followed by the padding simdjson reads past its end.
  std::vector<char> padded;
  // The payload's record, before it is copied into the chunk's arena.
  payload_writer payload;
  key_list keys;
};

event_fast_path::event_fast_path() : impl_(std::make_unique<impl>()) {
  // nop
}

event_fast_path::~event_fast_path() {
  // nop
}

bool event_fast_path::parse(std::string_view line, request& req,
                            const boost::json::storage_ptr& arena) {
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
  // The payload goes straight into its record form, in the chunk's arena:
  // no Boost.JSON object is built, the log stores these bytes as they are,
  // and the models read the fields they need from them.
  auto& writer = impl_->payload;
  writer.reset();
  impl_->keys.clear();
  if (!write_object(writer, payload, 1, impl_->keys) || !writer.complete())
    return false;
  auto bytes = writer.written();
  auto* stored = static_cast<char*>(arena->allocate(bytes.size(), 1));
  std::memcpy(stored, bytes.data(), bytes.size());
  // simdjson gives no NaN nor infinity, and the writer saw each number.
  auto numbers = writer.finite_numbers() ? payload_numbers::finite
                                         : payload_numbers::unchecked;
  auto encoded = event_payload::encoded(std::string_view{stored, bytes.size()}, arena,
                                        numbers);
  if (event_found[1]) {
    set_text(req.ev.id, ev_id);
  } else if (auto derived = derive_event_id(encoded)) {
    req.ev.id = std::move(*derived);
    req.ev.id_derived = true;
  } else {
    return false; // `req` still fresh
  }
  // Its object now in the heap's storage, not the arena's: moving the
  // event on counts no reference on the arena (event_payload's move).
  req.ev.payload = std::move(encoded);
  req.kind = request_kind::event;
  set_text(req.src, src);
  set_text(req.dest, dest);
  std::int64_t signed_id = 0;
  std::uint64_t unsigned_id = 0;
  if (!msg_id.get_int64().get(signed_id))
    req.msg_id = signed_id;
  else if (!msg_id.get_uint64().get(unsigned_id))
    req.msg_id = unsigned_id;
  set_text(req.ev.type, ev_type);
  return true;
}

} // namespace bus::node
