#include "bus/plain_json.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#if defined(__SSE2__)
#  include <emmintrin.h>
#endif

#include "internal/event_record.hpp"
#include "internal/record_tags.hpp"

namespace bus {

using namespace internal;

namespace {

[[maybe_unused]] constexpr bool little_endian = __BYTE_ORDER__
                                                == __ORDER_LITTLE_ENDIAN__;
constexpr std::uint64_t ones = 0x0101010101010101ull;
constexpr std::uint64_t highs = 0x8080808080808080ull;

// Flags the bytes of `w` (8 bytes of text, loaded little-endian) that end a
// plain run of string text: a quote, a backslash, a control character or
// a byte of a multi-byte character. Borrows may flag bytes above a flagged
// one falsely, never below: the lowest flag is exact.
[[maybe_unused]] std::uint64_t special_bytes(std::uint64_t w) noexcept {
  auto zero_in = [](std::uint64_t v) { return (v - ones) & ~v & highs; };
  auto below_space = (w - ones * 0x20) & ~w & highs;
  return zero_in(w ^ (ones * '"')) | zero_in(w ^ (ones * '\\')) | below_space
         | (w & highs);
}

bool plain_byte(unsigned char c) noexcept {
  return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

bool continuation(unsigned char c) noexcept {
  return (c & 0xC0) == 0x80;
}

// The length of the well-formed UTF-8 character at `p` (its first byte
// 0x80 or above), or 0: no overlong forms, no surrogates, nothing above
// U+10FFFF (Unicode's table 3-7, which Boost.JSON checks too).
std::size_t utf8_length(const unsigned char* p, std::size_t left) noexcept {
  auto c = p[0];
  if (c >= 0xC2 && c <= 0xDF)
    return left >= 2 && continuation(p[1]) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (left < 3 || !continuation(p[1]) || !continuation(p[2]))
      return 0;
    if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] > 0x9F))
      return 0;
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (left < 4 || !continuation(p[1]) || !continuation(p[2]) || !continuation(p[3]))
      return 0;
    if ((c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] > 0x8F))
      return 0;
    return 4;
  }
  return 0;
}

// Objects up to this size are checked for a key twice pairwise.
constexpr std::size_t pairwise_keys = 16;

bool has_twice(const std::vector<std::string_view>& keys, std::size_t first) {
  if (keys.size() - first <= pairwise_keys) {
    for (auto i = first; i < keys.size(); ++i)
      for (auto j = i + 1; j < keys.size(); ++j)
        if (keys[i] == keys[j])
          return true;
    return false;
  }
  std::vector<std::string_view> sorted(
    keys.begin() + static_cast<std::ptrdiff_t>(first), keys.end());
  std::sort(sorted.begin(), sorted.end());
  return std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end();
}

} // namespace

void plain_json_reader::reset(std::string_view text) noexcept {
  at_ = text.data();
  end_ = text.data() + text.size();
  pos_ = 0;
  keys_.clear();
}

// After the opening quote. Inlined into its callers: most strings are
// short, and the call would cost as much as the scan.
inline bool plain_json_reader::scan_string(std::string_view& out) noexcept {
  auto* start = at_;
  for (;;) {
    // Plain text 16 (SSE2) or 8 bytes at a time, up to the first byte that is not.
    auto found = false;
#if defined(__SSE2__)
    while (end_ - at_ >= 16) {
      auto x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(at_));
      // Signed bytes: a control character and a byte of a multi-byte
      // character are both below the space.
      auto stops = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')),
                                             _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))),
                                _mm_cmplt_epi8(x, _mm_set1_epi8(' ')));
      if (auto mask = _mm_movemask_epi8(stops); mask != 0) {
        at_ += __builtin_ctz(static_cast<unsigned>(mask));
        found = true;
        break;
      }
      at_ += 16;
    }
#else
    if constexpr (little_endian) {
      while (!found && end_ - at_ >= 8) {
        std::uint64_t w;
        std::memcpy(&w, at_, 8);
        if (auto flags = special_bytes(w); flags != 0) {
          at_ += __builtin_ctzll(flags) / 8;
          found = true;
          break;
        }
        at_ += 8;
      }
    }
#endif
    if (!found) {
      while (at_ != end_ && plain_byte(static_cast<unsigned char>(*at_)))
        ++at_;
      if (at_ == end_)
        return false;
    }
    auto c = static_cast<unsigned char>(*at_);
    if (c == '"') {
      out = std::string_view{start, static_cast<std::size_t>(at_ - start)};
      ++at_;
      return true;
    }
    if (c < 0x80)
      return false; // an escape, or a control character (not JSON)
    auto n = utf8_length(reinterpret_cast<const unsigned char*>(at_),
                         static_cast<std::size_t>(end_ - at_));
    if (n == 0)
      return false;
    at_ += n;
  }
}

bool plain_json_reader::string(std::string_view& out) noexcept {
  return consume('"') && scan_string(out);
}

bool plain_json_reader::integer(plain_integer& out) noexcept {
  skip_ws();
  auto negative = at_ != end_ && *at_ == '-';
  if (negative)
    ++at_;
  if (at_ == end_ || *at_ < '0' || *at_ > '9')
    return false;
  std::uint64_t magnitude = 0;
  if (*at_ == '0') {
    ++at_;
  } else {
    constexpr auto max = std::numeric_limits<std::uint64_t>::max();
    while (at_ != end_ && *at_ >= '0' && *at_ <= '9') {
      auto digit = static_cast<std::uint64_t>(*at_ - '0');
      if (magnitude > (max - digit) / 10)
        return false; // Boost.JSON makes it a double
      magnitude = magnitude * 10 + digit;
      ++at_;
    }
  }
  // A fraction or an exponent makes a double; a digit after a leading
  // zero is not JSON.
  if (at_ != end_
      && ((*at_ >= '0' && *at_ <= '9') || *at_ == '.' || *at_ == 'e' || *at_ == 'E'))
    return false;
  constexpr auto int64_max = static_cast<std::uint64_t>(
    std::numeric_limits<std::int64_t>::max());
  if (negative) {
    if (magnitude > int64_max + 1)
      return false; // a double in Boost.JSON
    out.type = plain_integer::kind::int64;
    out.bits = 0 - magnitude;
  } else {
    out.type = magnitude <= int64_max ? plain_integer::kind::int64
                                      : plain_integer::kind::uint64;
    out.bits = magnitude;
  }
  return true;
}

void plain_json_reader::put_varint(std::uint64_t x) {
  room(10);
  pos_ += write_varint(&buf_[pos_], x);
}

void plain_json_reader::put_text(unsigned char tag, std::string_view x) {
  room(11 + x.size());
  buf_[pos_] = static_cast<char>(tag);
  pos_ += tag == no_tag ? 0 : 1;
  pos_ += write_varint(&buf_[pos_], x.size());
  std::memcpy(&buf_[pos_], x.data(), x.size());
  pos_ += x.size();
}

void plain_json_reader::patch_count(std::size_t at, std::size_t n) {
  if (n < 0x80) {
    buf_[at] = static_cast<char>(n);
    return;
  }
  char count[10];
  auto len = write_varint(count, n);
  room(len - 1);
  std::memmove(&buf_[at + len], &buf_[at + 1], pos_ - at - 1);
  std::memcpy(&buf_[at], count, len);
  pos_ += len - 1;
}

bool plain_json_reader::object_record() {
  pos_ = 0;
  keys_.clear();
  return consume('{') && members(1);
}

// After an object's opening brace: its count, then each key and value.
bool plain_json_reader::members(int depth) {
  if (depth > max_record_depth)
    return false;
  auto count_at = pos_;
  put(0);
  auto first_key = keys_.size();
  std::size_t n = 0;
  if (!consume('}')) {
    do {
      std::string_view key;
      if (!string(key) || !consume(':'))
        return false;
      keys_.push_back(key);
      put_text(no_tag, key);
      if (!value(depth))
        return false;
      ++n;
    } while (consume(','));
    if (!consume('}'))
      return false;
  }
  // Boost.JSON keeps the last of a key's values, a record would keep both.
  if (has_twice(keys_, first_key))
    return false;
  keys_.resize(first_key);
  patch_count(count_at, n);
  return true;
}

// After an array's opening bracket.
bool plain_json_reader::elements(int depth) {
  if (depth > max_record_depth)
    return false;
  auto count_at = pos_;
  put(0);
  std::size_t n = 0;
  if (!consume(']')) {
    do {
      if (!value(depth))
        return false;
      ++n;
    } while (consume(','));
    if (!consume(']'))
      return false;
  }
  patch_count(count_at, n);
  return true;
}

bool plain_json_reader::literal(std::string_view rest, unsigned char tag) {
  ++at_;
  if (static_cast<std::size_t>(end_ - at_) < rest.size()
      || std::memcmp(at_, rest.data(), rest.size()) != 0)
    return false;
  at_ += rest.size();
  put(tag);
  return true;
}

// A value inside a container at `depth`.
bool plain_json_reader::value(int depth) {
  skip_ws();
  if (at_ == end_)
    return false;
  switch (*at_) {
    case '"': {
      ++at_;
      std::string_view s;
      if (!scan_string(s))
        return false;
      put_text(tag_string, s);
      return true;
    }
    case '{':
      ++at_;
      put(tag_object);
      return members(depth + 1);
    case '[':
      ++at_;
      put(tag_array);
      return elements(depth + 1);
    case 't':
      return literal("rue", tag_true);
    case 'f':
      return literal("alse", tag_false);
    case 'n':
      return literal("ull", tag_null);
    default: {
      plain_integer x;
      if (!integer(x))
        return false;
      if (x.type == plain_integer::kind::uint64) {
        put(tag_uint64);
        put_varint(x.bits);
      } else {
        // zigzag, as the record codec writes it
        auto v = x.as_int64();
        put(tag_int64);
        put_varint((static_cast<std::uint64_t>(v) << 1)
                   ^ static_cast<std::uint64_t>(v >> 63));
      }
      return true;
    }
  }
}

} // namespace bus
