#pragma once

// Plain-text tables for busctl's human-readable output: a header row and
// aligned columns, two spaces apart, and the number and duration formats
// the cells use.

#include <cstdint>
#include <string>
#include <vector>

namespace busctl {

enum class align { left, right };

struct column {
  std::string title;
  align side = align::left;
};

/// Rows under a header; each column as wide as its widest cell.
class table {
public:
  explicit table(std::vector<column> columns);

  /// Adds a row; missing cells are empty, extra cells are dropped.
  void add(std::vector<std::string> cells);

  /// Returns the header and the rows, one line each. The last column is not
  /// padded, so lines carry no trailing blanks.
  std::string render() const;

  bool empty() const noexcept { return rows_.empty(); }

private:
  std::vector<column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

/// Returns `x` with thousands separators: 1234567 -> "1,234,567".
std::string with_commas(std::int64_t x);

/// Returns a duration for people: "0 ms", "850 ms", "4.2 s", "3 min 5 s",
/// "2 h 3 min".
std::string duration_text(std::int64_t ms);

/// Returns the number of characters of UTF-8 `text` (not bytes).
std::size_t display_width(const std::string& text);

/// Returns `text` with its control characters (C0, DEL and C1) written as
/// \xNN: an event's type or id, or a model's error, comes from whoever
/// published it and must not drive the operator's terminal.
std::string printable(const std::string& text);

/// Returns `text` cut to `width` characters, ending in "..." when cut.
std::string clip(const std::string& text, std::size_t width);

} // namespace busctl
