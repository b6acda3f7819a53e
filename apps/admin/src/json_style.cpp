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
