// The JSON text of snapshot rows (internal/row_json.hpp and the
// append_json functions of snapshot_rows.hpp).

#include "internal/row_json.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string_view>

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

// True when `x` is written in JSON as it is, between quotes: what the
// serializer escapes is a quote, a backslash and a control character.
bool plain(std::string_view x) noexcept {
  // Eight bytes at a time (a byte below 0x20, or equal to a quote or a
  // backslash, sets its top bit below): the strings of a row are short
  // and plain.
  constexpr std::uint64_t ones = 0x0101010101010101ull;
  constexpr std::uint64_t highs = 0x8080808080808080ull;
  auto special = [](std::uint64_t w) {
    auto below_space = (w - ones * 0x20) & ~w;
    auto quote = w ^ (ones * '"');
    auto backslash = w ^ (ones * '\\');
    return ((below_space | ((quote - ones) & ~quote)
             | ((backslash - ones) & ~backslash))
            & highs)
           != 0;
  };
  auto* p = x.data();
  auto n = x.size();
  for (; n >= 8; p += 8, n -= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    if (special(w))
      return false;
  }
  for (; n > 0; ++p, --n) {
    auto c = static_cast<unsigned char>(*p);
    if (c < 0x20 || c == '"' || c == '\\')
      return false;
  }
  return true;
}

// Nesting written by the fast path below; deeper values go to the
// serializer, which needs no stack.
constexpr int max_fast_depth = 32;

// The serializer costs more than the row for the small strings, integers
// and objects of a row: those are written here, the rest by it. A string
// comes out exactly as the serializer writes it (keys are compared as
// written, whichever release wrote them); a number, as a number that reads
// back the same.
void append_string(std::string& out, std::string_view x) {
  if (plain(x)) {
    out += '"';
    out.append(x.data(), x.size());
    out += '"';
    return;
  }
  auto& sr = serializer();
  sr.reset(boost::json::string_view{x.data(), x.size()});
  drain(sr, out);
}

template <class T>
void append_integer(std::string& out, T x) {
  char buffer[24];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, x);
  out.append(buffer, static_cast<std::size_t>(end - buffer));
}

void append_value(std::string& out, const boost::json::value& x, int depth);

void append_object(std::string& out, const boost::json::object& x, int depth) {
  out += '{';
  auto first = true;
  for (auto& kv : x) {
    if (!first)
      out += ',';
    first = false;
    append_string(out, {kv.key().data(), kv.key().size()});
    out += ':';
    append_value(out, kv.value(), depth + 1);
  }
  out += '}';
}

void append_value(std::string& out, const boost::json::value& x, int depth) {
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
      out += x.get_bool() ? "true" : "false";
      return;
    case kind::null:
      out += "null";
      return;
    case kind::object:
      if (depth < max_fast_depth) {
        append_object(out, x.get_object(), depth);
        return;
      }
      break;
    case kind::array:
      if (depth < max_fast_depth) {
        out += '[';
        auto first = true;
        for (auto& item : x.get_array()) {
          if (!first)
            out += ',';
          first = false;
          append_value(out, item, depth + 1);
        }
        out += ']';
        return;
      }
      break;
    case kind::double_:
      break;
  }
  auto& sr = serializer();
  sr.reset(&x);
  drain(sr, out);
}

} // namespace

void append_json(std::string& out, const boost::json::value& x) {
  append_value(out, x, 0);
}

void append_json(std::string& out, const boost::json::object& x) {
  append_object(out, x, 0);
}

void append_json(std::string& out, std::string_view x) {
  append_string(out, x);
}

} // namespace bus

namespace bus::internal {

bool holds_nan(const boost::json::value& x) noexcept {
  return any_double(x, [](double d) { return std::isnan(d); });
}

void append_object_json(std::string& out, std::string_view bytes) {
  out += '{';
  std::string_view key;
  std::string_view value;
  auto first = true;
  for (field_walker walk{bytes}; walk.next_raw(key, value);) {
    if (!first)
      out += ',';
    first = false;
    append_string(out, key);
    out += ':';
    record_reader r{value};
    auto x = r.field();
    switch (x.kind()) {
      case field_kind::string:
        append_string(out, x.as_string());
        break;
      case field_kind::int64:
        append_integer(out, x.as_int64());
        break;
      case field_kind::uint64:
        append_integer(out, x.as_uint64());
        break;
      case field_kind::boolean:
        out += x.as_bool() ? "true" : "false";
        break;
      case field_kind::null:
        out += "null";
        break;
      default: {
        // Doubles as the serializer writes them; arrays and objects as
        // decoded (a nested key held twice counts once), at the depth of a
        // decoded document's values.
        record_reader whole{value};
        append_value(out, whole.value(1), 1);
      }
    }
  }
  out += '}';
}

} // namespace bus::internal
