#pragma once

// Reads JSON text in the plain form most events take straight into what
// the bus keeps: strings as views of the text, integers as integers, and an
// object as its record (the form event_payload::encoded takes, as
// payload_writer writes it), with no Boost.JSON value built in between.
//
// Plain means: strings without backslash escapes, numbers without a
// fraction or an exponent (and within 64 bits), no key twice in an object,
// and objects and arrays nested at most `max_record_depth` deep. On such
// text Boost.JSON gives the same values by construction. Every read returns
// false on anything else, valid JSON or not, and a caller then leaves the
// whole text to Boost.JSON, which also words the errors. What a read
// accepts is always valid JSON (UTF-8 checked as Boost.JSON checks it).
//
// One reader serves text after text (reset()), keeping its memory. Not
// thread-safe; the text must outlive the views read from it.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace bus {

/// An integer as read: Boost.JSON's int64 when it fits, else its uint64.
struct plain_integer {
  enum class kind { int64, uint64 };
  kind type = kind::int64;
  std::uint64_t bits = 0; // the int64's two's complement for kind::int64

  std::int64_t as_int64() const noexcept { return static_cast<std::int64_t>(bits); }
};

class plain_json_reader {
public:
  /// Nesting an object_record() builds: the object itself is depth 1.
  static constexpr int max_record_depth = 16;

  /// Starts reading `text` from its beginning; the last record is dropped.
  void reset(std::string_view text) noexcept;

  /// Skips whitespace; true and past it if `c` comes next.
  bool consume(char c) noexcept {
    skip_ws();
    if (at_ == end_ || *at_ != c)
      return false;
    ++at_;
    return true;
  }

  /// Reads a plain string (after whitespace); `out` views the text.
  bool string(std::string_view& out) noexcept;

  /// Reads a key and its colon (after whitespace) when the key is one of
  /// `names` (none with a quote or a backslash) written as it is, and sets
  /// `index` to its place in `names`. For a caller that takes only known
  /// keys, cheaper than string(): no scan for where the key ends.
  template <std::size_t N>
  bool known_key(const std::string_view (&names)[N], std::size_t& index) noexcept {
    if (!consume('"'))
      return false;
    auto left = static_cast<std::size_t>(end_ - at_);
    for (std::size_t i = 0; i < N; ++i) {
      auto n = names[i].size();
      if (left > n && at_[n] == '"' && std::memcmp(at_, names[i].data(), n) == 0) {
        at_ += n + 1;
        index = i;
        return consume(':');
      }
    }
    return false;
  }

  /// Reads an integer (after whitespace) as Boost.JSON would type it.
  bool integer(plain_integer& out) noexcept;

  /// Reads an object (after whitespace) into record(), replacing what an
  /// earlier call wrote.
  bool object_record();

  /// The record of the last object_record() that returned true.
  std::string_view record() const noexcept { return {buf_.data(), pos_}; }

  /// True if nothing but whitespace is left.
  bool at_end() noexcept {
    skip_ws();
    return at_ == end_;
  }

private:
  void skip_ws() noexcept {
    // Most text has no whitespace or one space between tokens.
    while (at_ != end_ && static_cast<unsigned char>(*at_) <= ' '
           && (*at_ == ' ' || *at_ == '\t' || *at_ == '\n' || *at_ == '\r'))
      ++at_;
  }
  bool value(int depth);
  bool members(int depth);
  bool elements(int depth);
  bool literal(std::string_view rest, unsigned char tag);
  bool scan_string(std::string_view& out) noexcept;

  // The record grows ahead (never shrinks), so that a value costs no append.
  void room(std::size_t n) {
    if (buf_.size() - pos_ < n)
      buf_.resize(pos_ + n + 256 + buf_.size());
  }
  void put(unsigned char byte) {
    room(1);
    buf_[pos_++] = static_cast<char>(byte);
  }
  void put_varint(std::uint64_t x);
  // A key (`no_tag`) or a tagged string: its length, then its bytes.
  static constexpr unsigned char no_tag = 0xFF;
  void put_text(unsigned char tag, std::string_view x);
  // Writes a container's count where a one-byte placeholder stands.
  void patch_count(std::size_t at, std::size_t n);

  const char* at_ = nullptr;
  const char* end_ = nullptr;
  std::string buf_;
  std::size_t pos_ = 0;
  // The keys of the objects open, to find one twice.
  std::vector<std::string_view> keys_;
};

} // namespace bus
