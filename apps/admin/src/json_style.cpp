#include "bus/admin/json_style.hpp"

#include <charconv>
#include <cstdint>
#include <cstring>

#include <boost/json/serialize.hpp>

#include "bus/json_plain.hpp"

namespace bus::admin {

namespace {

// Integers as Boost.JSON serializes them, without its temporary string
// (every reply of the node renders its msg_id).
template <class Integer>
void append_number(std::string& out, Integer x) {
  char buffer[24];
  auto end = std::to_chars(buffer, buffer + sizeof buffer, x).ptr;
  out.append(buffer, end);
}

} // namespace

char* write_string(char* p, std::string_view s) noexcept {
  static constexpr char hex[] = "0123456789abcdef";
  *p++ = '"';
  if (copy_json_plain(p, s)) { // the common case: copied as it is checked
    p += s.size();
    *p++ = '"';
    return p;
  }
  for (auto c : s) {
    auto escape = [&](char x) {
      *p++ = '\\';
      *p++ = x;
    };
    switch (c) {
      case '"':
        escape('"');
        break;
      case '\\':
        escape('\\');
        break;
      case '\n':
        escape('n');
        break;
      case '\r':
        escape('r');
        break;
      case '\t':
        escape('t');
        break;
      case '\b':
        escape('b');
        break;
      case '\f':
        escape('f');
        break;
      default:
        if (json_escaped[static_cast<unsigned char>(c)]) {
          std::memcpy(p, "\\u00", 4);
          p[4] = hex[static_cast<unsigned char>(c) >> 4];
          p[5] = hex[c & 0xf];
          p += 6;
        } else {
          *p++ = c;
        }
    }
  }
  *p++ = '"';
  return p;
}

void render_string(std::string& out, std::string_view s) {
  if (json_plain(s)) { // the common case
    out += '"';
    out.append(s.data(), s.size());
    out += '"';
    return;
  }
  auto old = out.size();
  out.resize(old + max_string_size(s));
  auto end = write_string(out.data() + old, s);
  out.resize(static_cast<std::size_t>(end - out.data()));
}

std::string valid_utf8(std::string_view s) {
  static constexpr char replacement[] = "\xef\xbf\xbd"; // U+FFFD
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    // The sequence length of a lead byte and the range of its second byte
    // (which excludes overlong forms, surrogates and code points past
    // U+10FFFF), as in the Unicode standard's table 3-7.
    std::size_t n = 0;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c < 0x80)
      n = 1;
    else if (c >= 0xc2 && c <= 0xdf)
      n = 2;
    else if (c >= 0xe0 && c <= 0xef) {
      n = 3;
      lo = c == 0xe0 ? 0xa0 : 0x80;
      hi = c == 0xed ? 0x9f : 0xbf;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 4;
      lo = c == 0xf0 ? 0x90 : 0x80;
      hi = c == 0xf4 ? 0x8f : 0xbf;
    }
    if (n == 0) {
      out += replacement;
      ++i;
      continue;
    }
    // Takes the bytes that continue the sequence; a sequence cut short is
    // replaced as a whole (its maximal subpart).
    std::size_t len = 1;
    while (len < n && i + len < s.size()) {
      auto b = static_cast<unsigned char>(s[i + len]);
      if (b < (len == 1 ? lo : 0x80) || b > (len == 1 ? hi : 0xbf))
        break;
      ++len;
    }
    if (len == n)
      out.append(s.data() + i, n);
    else
      out += replacement;
    i += len;
  }
  return out;
}

void render_key(std::string& out, std::string_view name) {
  render_string(out, name);
  out += ": ";
}

void render_json(std::string& out, const boost::json::object& obj) {
  out += '{';
  bool first = true;
  for (auto& kv : obj) {
    if (!first)
      out += ", ";
    first = false;
    render_key(out, std::string_view{kv.key().data(), kv.key().size()});
    render_json(out, kv.value());
  }
  out += '}';
}

void render_json(std::string& out, const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::object:
      render_json(out, v.get_object());
      break;
    case boost::json::kind::array: {
      out += '[';
      bool first = true;
      for (auto& x : v.get_array()) {
        if (!first)
          out += ", ";
        first = false;
        render_json(out, x);
      }
      out += ']';
      break;
    }
    case boost::json::kind::string: {
      auto& str = v.get_string();
      render_string(out, std::string_view{str.data(), str.size()});
      break;
    }
    case boost::json::kind::int64:
      append_number(out, v.get_int64());
      break;
    case boost::json::kind::uint64:
      append_number(out, v.get_uint64());
      break;
    default:
      out += boost::json::serialize(v);
  }
}

} // namespace bus::admin
