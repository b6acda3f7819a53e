// The JSON text of snapshot rows (internal/row_json.hpp and the
// append_json functions of snapshot_rows.hpp).

#include "internal/row_json.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "bus/json_plain.hpp"
#include "bus/snapshot_rows.hpp"
#include "internal/event_record.hpp"
#include "internal/json_numbers.hpp"
#include "internal/record_reader.hpp"

namespace bus::internal {

void drain(boost::json::serializer& sr, std::string& out) {
  char buffer[512];
  while (!sr.done()) {
    auto chunk = sr.read(buffer, sizeof buffer);
    out.append(chunk.data(), chunk.size());
  }
}

boost::json::serializer& serializer() {
  thread_local boost::json::serializer sr;
  return sr;
}

} // namespace bus::internal

namespace bus {

namespace {

using internal::drain;
using internal::serializer;
using internal::text_buffer;

// Nesting written by the fast path below; deeper values go to the
// serializer, which needs no stack.
constexpr int max_fast_depth = 32;

// The serializer costs more than the row for the small strings, integers
// and objects of a row: those are written here, the rest by it. A string
// comes out exactly as the serializer writes it (keys are compared as
// written, whichever release wrote them); a number, as a number that reads
// back the same.
void append_string(text_buffer& out, std::string_view x) {
  if (auto* p = out.reserve(x.size() + 2); p != nullptr && copy_json_plain(p + 1, x)) {
    p[0] = '"';
    p[x.size() + 1] = '"';
    out.commit(x.size() + 2);
    return;
  }
  if (x.size() + 2 > text_buffer::capacity && json_plain(x)) {
    out.put('"');
    out.put(x);
    out.put('"');
    return;
  }
  auto& sr = serializer();
  sr.reset(boost::json::string_view{x.data(), x.size()});
  drain(sr, out.flushed());
}

template <class T>
void append_integer(text_buffer& out, T x) {
  constexpr std::size_t room = 24;
  auto* p = out.reserve(room);
  auto [end, ec] = std::to_chars(p, p + room, x);
  out.commit(static_cast<std::size_t>(end - p));
}

void append_value(text_buffer& out, const boost::json::value& x, int depth);

void append_object(text_buffer& out, const boost::json::object& x, int depth) {
  out.put('{');
  auto first = true;
  for (auto& kv : x) {
    if (!first)
      out.put(',');
    first = false;
    append_string(out, {kv.key().data(), kv.key().size()});
    out.put(':');
    append_value(out, kv.value(), depth + 1);
  }
  out.put('}');
}

void append_value(text_buffer& out, const boost::json::value& x, int depth) {
  using boost::json::kind;
  switch (x.kind()) {
    case kind::string:
      append_string(out, {x.get_string().data(), x.get_string().size()});
      return;
    case kind::int64:
      append_integer(out, x.get_int64());
      return;
    case kind::uint64:
      append_integer(out, x.get_uint64());
      return;
    case kind::bool_:
      out.put(x.get_bool() ? "true" : "false");
      return;
    case kind::null:
      out.put("null");
      return;
    case kind::object:
      if (depth < max_fast_depth) {
        append_object(out, x.get_object(), depth);
        return;
      }
      break;
    case kind::array:
      if (depth < max_fast_depth) {
        out.put('[');
        auto first = true;
        for (auto& item : x.get_array()) {
          if (!first)
            out.put(',');
          first = false;
          append_value(out, item, depth + 1);
        }
        out.put(']');
        return;
      }
      break;
    case kind::double_:
      break;
  }
  auto& sr = serializer();
  sr.reset(&x);
  drain(sr, out.flushed());
}

} // namespace

void append_json(std::string& out, const boost::json::value& x) {
  text_buffer b{out};
  append_value(b, x, 0);
  b.flush();
}

void append_json(std::string& out, const boost::json::object& x) {
  text_buffer b{out};
  append_object(b, x, 0);
  b.flush();
}

void append_json(std::string& out, std::string_view x) {
  text_buffer b{out};
  append_string(b, x);
  b.flush();
}

} // namespace bus

namespace bus::internal {

bool holds_nan(const boost::json::value& x) noexcept {
  return any_double(x, [](double d) { return std::isnan(d); });
}

void append_string_json(text_buffer& out, std::string_view x) {
  append_string(out, x);
}

void append_object_json(std::string& out, std::string_view bytes) {
  text_buffer b{out};
  b.put('{');
  std::string_view key;
  std::string_view value;
  auto first = true;
  for (field_walker walk{bytes}; walk.next_raw(key, value);) {
    if (!first)
      b.put(',');
    first = false;
    append_string(b, key);
    b.put(':');
    record_reader r{value};
    auto x = r.field();
    switch (x.kind()) {
      case field_kind::string:
        append_string(b, x.as_string());
        break;
      case field_kind::int64:
        append_integer(b, x.as_int64());
        break;
      case field_kind::uint64:
        append_integer(b, x.as_uint64());
        break;
      case field_kind::boolean:
        b.put(x.as_bool() ? "true" : "false");
        break;
      case field_kind::null:
        b.put("null");
        break;
      default: {
        // Doubles as the serializer writes them; arrays and objects as
        // decoded (a nested key held twice counts once), at the depth of a
        // decoded document's values.
        record_reader whole{value};
        append_value(b, whole.value(1), 1);
      }
    }
  }
  b.put('}');
  b.flush();
}

} // namespace bus::internal
