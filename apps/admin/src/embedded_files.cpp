#include "bus/admin/embedded_files.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace bus::admin {

const embedded_file* find_embedded(std::string_view path) {
  auto& files = embedded_files();
  auto i = std::find_if(files.begin(), files.end(),
                        [&](const embedded_file& f) { return f.path == path; });
  return i == files.end() ? nullptr : &*i;
}

std::string_view content_type_of(std::string_view path) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 12> types{{
    {".html", "text/html; charset=utf-8"},
    {".htm", "text/html; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".json", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".txt", "text/plain; charset=utf-8"},
    {".woff2", "font/woff2"},
    {".map", "application/json"},
  }};
  auto slash = path.rfind('/');
  auto name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  auto dot = name.rfind('.');
  if (dot == std::string_view::npos)
    return "application/octet-stream";
  auto ext = name.substr(dot);
  for (auto& [suffix, type] : types) {
    if (ext.size() == suffix.size()
        && std::equal(ext.begin(), ext.end(), suffix.begin(), [](char a, char b) {
             return (a >= 'A' && a <= 'Z' ? a - 'A' + 'a' : a) == b;
           }))
      return type;
  }
  return "application/octet-stream";
}

} // namespace bus::admin
