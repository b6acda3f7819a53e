#pragma once

// Writes a payload in the compact record form that event_payload::encoded
// takes, value by value: a program that reads its input its own way makes
// a payload without building a Boost.JSON object, a log stores those bytes
// as they are, and a model reads its fields without decoding them
// (event_payload::field). For JSON text, plain_json_reader does the same
// in one pass.
//
// Each object and array states its size before its members; an object's
// members are key() then a value. complete() tells whether exactly one
// object was written whole and in that order: only then are the bytes fit
// for event_payload::encoded. One writer serves payload after payload
// (reset()), keeping its memory.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace bus {

class payload_writer {
public:
  /// Starts a new payload; the memory of the last one is reused.
  void reset() noexcept;

  /// The bytes written since the last reset().
  std::string_view written() const noexcept { return {buf_.data(), pos_}; }

  /// An object of `n` members follows (the payload itself first).
  void begin_object(std::size_t n);

  /// The key of the next member of the open object.
  void key(std::string_view k);

  /// An array of `n` values follows.
  void begin_array(std::size_t n);

  void null();
  void boolean(bool x);
  void int64(std::int64_t x);
  void uint64(std::uint64_t x);
  void number(double x);
  void string(std::string_view x);

  /// True when exactly one object was written, whole, and nothing else.
  bool complete() const noexcept { return started_ && open_.empty() && !misused_; }

  /// True when no number written since the last reset() was NaN or an
  /// infinity (for event_payload::encoded's payload_numbers::finite).
  bool finite_numbers() const noexcept { return !nonfinite_; }

private:
  struct container {
    std::size_t left; // values still to come
    bool object;      // members are key() then a value
    bool key_next;    // an object waits for a key, not a value
  };

  // Checks that a value may come here and counts it; false if misused.
  bool value_here();
  // Closes the containers whose values are all written.
  void close_full();

  // The buffer grows ahead (never shrinks), so that a value costs no append.
  void room(std::size_t n) {
    if (buf_.size() - pos_ < n)
      buf_.resize(pos_ + n + 256 + buf_.size());
  }
  void tag(unsigned char t) {
    room(1);
    buf_[pos_++] = static_cast<char>(t);
  }
  void varint(std::uint64_t x) {
    room(10);
    while (x >= 0x80) {
      buf_[pos_++] = static_cast<char>(x | 0x80);
      x >>= 7;
    }
    buf_[pos_++] = static_cast<char>(x);
  }
  void raw(std::string_view x) {
    room(x.size());
    if (!x.empty())
      std::memcpy(&buf_[pos_], x.data(), x.size());
    pos_ += x.size();
  }

  std::string buf_;
  std::size_t pos_ = 0;
  std::vector<container> open_;
  bool started_ = false;
  bool misused_ = false;
  bool nonfinite_ = false;
};

} // namespace bus
