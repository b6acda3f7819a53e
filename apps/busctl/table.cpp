#include "table.hpp"

#include <algorithm>
#include <cstdio>

namespace busctl {

table::table(std::vector<column> columns) : columns_(std::move(columns)) {
  // nop
}

std::string printable(const std::string& text) {
  auto hex = [](unsigned x) { return "0123456789abcdef"[x & 0xf]; };
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    // C1 controls are U+0080 to U+009F: 0xc2 then 0x80 to 0x9f in UTF-8.
    auto c1 = c == 0xc2 && i + 1 < text.size()
              && static_cast<unsigned char>(text[i + 1]) >= 0x80
              && static_cast<unsigned char>(text[i + 1]) <= 0x9f;
    if (c < 0x20 || c == 0x7f || c1) {
      auto x = c1 ? static_cast<unsigned char>(text[++i]) : c;
      out += "\\x";
      out += hex(x >> 4);
      out += hex(x);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

void table::add(std::vector<std::string> cells) {
  cells.resize(columns_.size());
  for (auto& cell : cells)
    cell = printable(cell);
  rows_.push_back(std::move(cells));
}

std::string table::render() const {
  std::vector<std::size_t> widths;
  for (auto& c : columns_)
    widths.push_back(display_width(c.title));
  for (auto& row : rows_)
    for (std::size_t i = 0; i < row.size(); ++i)
      widths[i] = std::max(widths[i], display_width(row[i]));
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    std::string text;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      auto pad = std::string(widths[i] - display_width(cells[i]), ' ');
      bool last = i + 1 == cells.size();
      if (i > 0)
        text += "  ";
      if (columns_[i].side == align::right)
        text += pad + cells[i];
      else
        text += last ? cells[i] : cells[i] + pad;
    }
    while (!text.empty() && text.back() == ' ')
      text.pop_back();
    out += text + "\n";
  };
  std::vector<std::string> header;
  for (auto& c : columns_)
    header.push_back(c.title);
  line(header);
  for (auto& row : rows_)
    line(row);
  return out;
}

std::string with_commas(std::int64_t x) {
  // -(x + 1) + 1 in unsigned: the magnitude of INT64_MIN too.
  auto digits = std::to_string(x < 0 ? static_cast<unsigned long long>(-(x + 1)) + 1ull
                                     : static_cast<unsigned long long>(x));
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0)
      out += ',';
    out += digits[i];
  }
  return x < 0 ? "-" + out : out;
}

std::string duration_text(std::int64_t ms) {
  ms = std::max<std::int64_t>(ms, 0); // clocks of two hosts may disagree
  if (ms < 1000)
    return std::to_string(ms) + " ms";
  if (ms < 60'000) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(ms) / 1000);
    return buf;
  }
  auto s = ms / 1000;
  if (s < 3600)
    return std::to_string(s / 60) + " min " + std::to_string(s % 60) + " s";
  return std::to_string(s / 3600) + " h " + std::to_string(s % 3600 / 60) + " min";
}

std::size_t display_width(const std::string& text) {
  // Continuation bytes (10xxxxxx) do not start a character.
  return static_cast<std::size_t>(
    std::count_if(text.begin(), text.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

std::string clip(const std::string& text, std::size_t width) {
  if (display_width(text) <= width)
    return text;
  std::string out;
  std::size_t chars = 0;
  for (char c : text) {
    bool starts = (c & 0xC0) != 0x80;
    if (starts && chars == width - std::min<std::size_t>(width, 3))
      break;
    chars += starts;
    out += c;
  }
  return out + std::string(std::min<std::size_t>(width, 3), '.');
}

} // namespace busctl
