// Record rows (snapshot_rows.hpp): writing one, reading one, and writing
// them as JSON lines for the stores that keep text.

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

#include <boost/json/value.hpp>

#include "bus/errc.hpp"
#include "bus/event_log.hpp"
#include "bus/snapshot_rows.hpp"
#include "internal/event_record.hpp"
#include "internal/record_reader.hpp"
#include "internal/row_lines.hpp"

namespace bus {

const char* to_string(row_form x) noexcept {
  switch (x) {
    case row_form::json:
      return "json";
    case row_form::record:
      return "record";
  }
  return "?";
}

void append_record_row(std::string& out, std::string_view key, std::string_view value) {
  auto at = internal::open_record_row(out, key);
  out.append(value.data(), value.size());
  internal::close_record_row(out, at);
}

caf::expected<std::string> rows_as_json(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 4);
  auto err = internal::for_each_row_line(
    text, [&](std::string_view row, row_form form) -> caf::error {
      if (form == row_form::json) {
        out.append(row.data(), row.size());
        out += '\n';
        return caf::none;
      }
      std::string_view key, value;
      if (!internal::read_record_row(row, key, value)
          || (!value.empty() && !internal::checked_value(value)))
        return internal::bad_row(row);
      if (value.empty()) {
        append_row(out, key, nullptr);
        return caf::none;
      }
      internal::record_reader r{value};
      auto decoded = r.value(0);
      append_row(out, key, &decoded);
      return caf::none;
    });
  if (err)
    return err;
  return out;
}

} // namespace bus

namespace bus::internal {

std::size_t open_record_row(std::string& out, std::string_view key) {
  // One append for the header and a usual key: a projector writes a row per
  // change, and an append per piece cost more than the row's value.
  constexpr std::size_t inline_key = 64;
  char head[record_row_header + max_varint_size + inline_key];
  std::memset(head, 0, record_row_header); // the length comes at the close
  auto n = record_row_header + write_varint(head + record_row_header, key.size());
  auto at = out.size();
  if (key.size() <= inline_key) {
    std::memcpy(head + n, key.data(), key.size());
    out.append(head, n + key.size());
  } else {
    out.append(head, n);
    out.append(key.data(), key.size());
  }
  return at;
}

void close_record_row(std::string& out, std::size_t at) {
  auto n = out.size() - at - record_row_header;
  if (n > UINT32_MAX)
    throw storage_error("snapshot rows: a row of more than 4 GiB");
  for (std::size_t i = 0; i < 4; ++i)
    out[at + 1 + i] = static_cast<char>((n >> (8 * i)) & 0xff);
}

caf::error bad_row(std::string_view row) {
  if (!row.empty() && row.front() == '\0')
    return make_error(errc::storage_failed,
                      "snapshot rows: a record row that does not read ("
                        + std::to_string(row.size()) + " bytes left)");
  constexpr std::size_t shown = 80;
  return make_error(errc::storage_failed,
                    "snapshot rows: not a row: " + std::string{row.substr(0, shown)}
                      + (row.size() > shown ? "..." : ""));
}

bool valid_utf8(std::string_view x) noexcept {
  auto* p = reinterpret_cast<const unsigned char*>(x.data());
  auto* end = p + x.size();
  while (p != end) {
    // ASCII, the usual, eight bytes at a time.
    while (end - p >= 8) {
      std::uint64_t word;
      std::memcpy(&word, p, 8);
      if ((word & 0x8080808080808080ull) != 0)
        break;
      p += 8;
    }
    if (p == end)
      return true;
    auto c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    // As Boost.JSON reads it: no overlong form, no surrogate, nothing past
    // U+10FFFF.
    std::ptrdiff_t n;
    std::uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) {
      n = 1;
      cp = c & 0x1fu;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2;
      cp = c & 0x0fu;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      cp = c & 0x07u;
    } else {
      return false;
    }
    if (end - p <= n)
      return false;
    for (std::ptrdiff_t i = 1; i <= n; ++i) {
      if ((p[i] & 0xc0) != 0x80)
        return false;
      cp = (cp << 6) | (p[i] & 0x3fu);
    }
    if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
        || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
      return false;
    p += n + 1;
  }
  return true;
}

bool read_record_row(std::string_view row, std::string_view& key,
                     std::string_view& value) {
  try {
    record_reader r{row.substr(record_row_header)};
    key = r.str();
    // Keys read as their JSON lines would (a fold matches them to those).
    if (!valid_utf8(key))
      return false;
    value = std::string_view{reinterpret_cast<const char*>(r.pos),
                             static_cast<std::size_t>(r.end - r.pos)};
    return true;
  } catch (const storage_error&) {
    return false;
  }
}

bool checked_value(std::string_view value) noexcept {
  // What a JSON row cannot hold: a NaN (holds_nan), a string that is not
  // UTF-8.
  auto not_nan = [](double x) { return !std::isnan(x); };
  auto utf8 = [](std::string_view x) { return valid_utf8(x); };
  try {
    record_reader r{value};
    return r.skip_value_checking(0, not_nan, utf8) && r.pos == r.end;
  } catch (const storage_error&) {
    return false;
  }
}

} // namespace bus::internal
