#include "bus/admin/json_style.hpp"

#include <boost/json/serialize.hpp>

namespace bus::admin {

void render_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  auto plain = s.begin();
  for (auto i = s.begin(); i != s.end(); ++i) {
    auto c = static_cast<unsigned char>(*i);
    if (c >= 0x20 && c != '"' && c != '\\')
      continue;
    out.append(plain, i);
    plain = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        out += "\\u00";
        out += hex[c >> 4];
        out += hex[c & 0xf];
    }
  }
  out.append(plain, s.end());
  out += '"';
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

void render_json(std::string& out, const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::object: {
      out += '{';
      bool first = true;
      for (auto& kv : v.get_object()) {
        if (!first)
          out += ", ";
        first = false;
        render_key(out, std::string_view{kv.key().data(), kv.key().size()});
        render_json(out, kv.value());
      }
      out += '}';
      break;
    }
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
    default:
      out += boost::json::serialize(v);
  }
}

} // namespace bus::admin
