#pragma once

// Reads the encoded values of a record (event_record.hpp), checking every
// length against the bytes at hand: corrupt data is a storage_error, never
// a crash. For the record codec and the code that walks records in place.

#include <cstdint>
#include <cstring>
#include <string_view>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>

#include "bus/event_log.hpp"
#include "bus/event_payload.hpp"
#include "record_tags.hpp"

namespace bus::internal {

// Corrupt data nests no deeper than this: the decoder recurses per level.
constexpr int max_record_depth = 256;

[[noreturn]] inline void corrupt_record() {
  throw storage_error("corrupt event record");
}

struct record_reader {
  const unsigned char* pos;
  const unsigned char* end;

  explicit record_reader(std::string_view body)
    : pos(reinterpret_cast<const unsigned char*>(body.data())), end(pos + body.size()) {
    // nop
  }

  std::uint64_t varint() {
    std::uint64_t x = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos == end)
        corrupt_record();
      auto b = *pos++;
      x |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0)
        return x;
    }
    corrupt_record();
  }

  std::int64_t zigzag() {
    auto x = varint();
    return static_cast<std::int64_t>(x >> 1) ^ -static_cast<std::int64_t>(x & 1);
  }

  unsigned char byte() {
    if (pos == end)
      corrupt_record();
    return *pos++;
  }

  std::string_view str() {
    auto n = varint();
    if (n > static_cast<std::uint64_t>(end - pos))
      corrupt_record();
    std::string_view result{reinterpret_cast<const char*>(pos),
                            static_cast<std::size_t>(n)};
    pos += n;
    return result;
  }

  // A double: 8 bytes, little endian.
  double float64() {
    if (end - pos < 8)
      corrupt_record();
    std::uint64_t bits = 0;
    for (int i = 0; i < 8; ++i)
      bits |= static_cast<std::uint64_t>(*pos++) << (8 * i);
    double d;
    std::memcpy(&d, &bits, sizeof(d));
    return d;
  }

  // A count of elements that each take at least one byte.
  std::size_t count() {
    auto n = varint();
    if (n > static_cast<std::uint64_t>(end - pos))
      corrupt_record();
    return static_cast<std::size_t>(n);
  }

  // Moves past the next value as skip_value() does, and returns false
  // where it meets a double that `double_ok` refuses or a string (a value
  // or an object's key) that `string_ok` refuses: one walk for the checks
  // that a value holds only what its reader can take.
  template <class DoubleOk, class StringOk>
  bool skip_value_checking(int depth, DoubleOk& double_ok, StringOk& string_ok) {
    if (depth > max_record_depth)
      corrupt_record();
    switch (byte()) {
      case tag_double:
        return double_ok(float64());
      case tag_string:
        return string_ok(str());
      case tag_array:
        for (auto n = count(); n > 0; --n)
          if (!skip_value_checking(depth + 1, double_ok, string_ok))
            return false;
        return true;
      case tag_object:
        for (auto n = count(); n > 0; --n)
          if (!string_ok(str())
              || !skip_value_checking(depth + 1, double_ok, string_ok))
            return false;
        return true;
      default:
        --pos;
        skip_value(depth);
        return true;
    }
  }

  // Checks the next value's lengths and moves past it, building nothing:
  // the same checks as value(), so what one accepts the other does.
  void skip_value(int depth) {
    if (depth > max_record_depth)
      corrupt_record();
    switch (byte()) {
      case tag_null:
      case tag_false:
      case tag_true:
        return;
      case tag_int64:
      case tag_uint64:
        varint();
        return;
      case tag_double:
        if (end - pos < 8)
          corrupt_record();
        pos += 8;
        return;
      case tag_string:
        str();
        return;
      case tag_array:
        for (auto n = count(); n > 0; --n)
          skip_value(depth + 1);
        return;
      case tag_object:
        skip_object(depth);
        return;
      default:
        corrupt_record();
    }
  }

  // As object() does.
  void skip_object(int depth) {
    for (auto n = count(); n > 0; --n) {
      str();
      skip_member(depth);
    }
  }

  // As value_into() does.
  void skip_member(int depth) {
    switch (byte()) {
      case tag_null:
      case tag_false:
      case tag_true:
        return;
      case tag_int64:
      case tag_uint64:
        varint();
        return;
      case tag_string:
        str();
        return;
      default:
        --pos;
        skip_value(depth + 1);
    }
  }

  // Reads the scalar at the front; arrays and objects only say their kind.
  payload_field field() {
    switch (byte()) {
      case tag_null:
        return payload_field::of_null();
      case tag_false:
        return payload_field::of(false);
      case tag_true:
        return payload_field::of(true);
      case tag_int64:
        return payload_field::of(zigzag());
      case tag_uint64:
        return payload_field::of(varint());
      case tag_double:
        return payload_field::of(float64());
      case tag_string:
        return payload_field::of(str());
      case tag_array:
        return payload_field::of_kind(field_kind::array);
      case tag_object:
        return payload_field::of_kind(field_kind::object);
      default:
        corrupt_record();
    }
  }

  void object(boost::json::object& out, int depth) {
    auto n = count();
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      auto key = str();
      value_into(key, out, depth);
    }
  }

  // Decodes the next value into `out[key]`, avoiding a temporary for scalars.
  void value_into(std::string_view key, boost::json::object& out, int depth) {
    switch (byte()) {
      case tag_null:
        out.emplace(key, nullptr);
        return;
      case tag_false:
        out.emplace(key, false);
        return;
      case tag_true:
        out.emplace(key, true);
        return;
      case tag_int64:
        out.emplace(key, zigzag());
        return;
      case tag_uint64:
        out.emplace(key, varint());
        return;
      case tag_string:
        out.emplace(key, boost::json::string_view{str()});
        return;
      default:
        --pos;
        out.emplace(key, value(depth + 1));
    }
  }

  boost::json::value value(int depth) {
    if (depth > max_record_depth)
      corrupt_record();
    switch (byte()) {
      case tag_null:
        return nullptr;
      case tag_false:
        return false;
      case tag_true:
        return true;
      case tag_int64:
        return zigzag();
      case tag_uint64:
        return varint();
      case tag_double:
        return float64();
      case tag_string:
        return boost::json::string_view{str()};
      case tag_array: {
        auto n = count();
        boost::json::array arr;
        arr.reserve(n);
        for (std::size_t i = 0; i < n; ++i)
          arr.push_back(value(depth + 1));
        return arr;
      }
      case tag_object: {
        boost::json::object obj;
        object(obj, depth);
        return obj;
      }
      default:
        corrupt_record();
    }
  }
};

} // namespace bus::internal
