#pragma once

// Strings that JSON writes as they are, between quotes: neither a quote, a
// backslash nor a control character. The strings our JSON writers meet
// (ids, keys, names) are short and plain, so these checks run eight bytes
// at a time and copy while they check.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace bus {

/// True for the bytes that JSON escapes in a string.
inline constexpr std::array<bool, 256> json_escaped = [] {
  std::array<bool, 256> result{};
  for (std::size_t c = 0; c < 0x20; ++c)
    result[c] = true;
  result['"'] = true;
  result['\\'] = true;
  return result;
}();

/// True if one of the eight bytes of `w` is escaped (a byte below 0x20, or
/// equal to a quote or a backslash, sets its top bit below).
inline bool json_escaped_in(std::uint64_t w) noexcept {
  constexpr std::uint64_t ones = 0x0101010101010101ull;
  constexpr std::uint64_t highs = 0x8080808080808080ull;
  auto below_space = (w - ones * 0x20) & ~w;
  auto quote = w ^ (ones * '"');
  auto backslash = w ^ (ones * '\\');
  return ((below_space | ((quote - ones) & ~quote) | ((backslash - ones) & ~backslash))
          & highs)
         != 0;
}

/// True when JSON writes `x` as it is.
inline bool json_plain(std::string_view x) noexcept {
  auto* p = x.data();
  auto n = x.size();
  std::uint64_t w;
  for (; n >= 8; p += 8, n -= 8) {
    std::memcpy(&w, p, 8);
    if (json_escaped_in(w))
      return false;
  }
  for (; n > 0; ++p, --n)
    if (json_escaped[static_cast<unsigned char>(*p)])
      return false;
  return true;
}

/// Copies `x` to `out`, which has room for x.size() bytes, and returns
/// json_plain(x). One pass over `x`.
inline bool copy_json_plain(char* out, std::string_view x) noexcept {
  auto* p = x.data();
  auto n = x.size();
  if (n < 8) {
    auto escaped = false;
    for (std::size_t i = 0; i < n; ++i) {
      out[i] = p[i];
      escaped |= json_escaped[static_cast<unsigned char>(p[i])];
    }
    return !escaped;
  }
  std::uint64_t w;
  for (std::size_t i = 0; i + 8 <= n; i += 8) {
    std::memcpy(&w, p + i, 8);
    std::memcpy(out + i, &w, 8);
    if (json_escaped_in(w))
      return false;
  }
  // The last eight bytes, overlapping what the loop copied.
  std::memcpy(&w, p + n - 8, 8);
  std::memcpy(out + n - 8, &w, 8);
  return !json_escaped_in(w);
}

} // namespace bus
