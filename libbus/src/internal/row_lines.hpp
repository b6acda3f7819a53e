#pragma once

// Reading the rows of a snapshot's text (snapshot_rows.hpp) one at a time,
// JSON lines and record rows alike. For snapshot_rows.cpp and
// record_rows.cpp.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <caf/error.hpp>

#include "bus/row_form.hpp"

namespace bus::internal {

/// A record row starts with the byte 0 and its body's length (4 bytes,
/// little endian).
constexpr std::size_t record_row_header = 5;

/// Appends the start of the record row of `key` (its header, to be closed
/// by close_record_row, and its key) to `out`; returns where it starts.
std::size_t open_record_row(std::string& out, std::string_view key);

/// Writes the body length of the record row that starts at `at` and runs
/// to the end of `out` (written with record_row_header bytes for it).
void close_record_row(std::string& out, std::size_t at);

/// The error for `row`, which is not a row.
caf::error bad_row(std::string_view row);

/// True when `x` is UTF-8 as Boost.JSON reads it.
bool valid_utf8(std::string_view x) noexcept;

/// The key and the value (empty: removed) of the record row `row`; false
/// when they do not read, or the key is not UTF-8 (a JSON line's could not
/// hold it). The value is not checked here.
bool read_record_row(std::string_view row, std::string_view& key,
                     std::string_view& value);

/// True when `value` is one encoded value (a tag byte first), exactly,
/// holding nothing a JSON row could not: no NaN, no string (nor key) that
/// is not UTF-8.
bool checked_value(std::string_view value) noexcept;

/// Calls f(row, form) for each row of `text`, in order: a JSON line
/// without its '\n' (empty lines skipped), or a whole record row. Stops at
/// the first error f returns, or at a record row that runs past `text`.
template <class F>
caf::error for_each_row_line(std::string_view text, F&& f) {
  while (!text.empty()) {
    std::string_view row;
    auto form = row_form::json;
    if (text.front() == '\0') {
      if (text.size() < record_row_header)
        return bad_row(text);
      std::uint32_t n = 0;
      for (std::size_t i = 0; i < 4; ++i)
        n |= static_cast<std::uint32_t>(static_cast<unsigned char>(text[1 + i]))
             << (8 * i);
      if (n > text.size() - record_row_header)
        return bad_row(text);
      row = text.substr(0, record_row_header + n);
      text.remove_prefix(row.size());
      form = row_form::record;
    } else {
      auto end = text.find('\n');
      row = text.substr(0, end);
      text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
      if (row.empty())
        continue;
    }
    if (auto err = f(row, form))
      return err;
  }
  return caf::none;
}

} // namespace bus::internal
