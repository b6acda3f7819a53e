#pragma once

// The compact binary record of one stored event, as sqlite_log keeps it:
// a row of the store holds the records of consecutive events back to back.
// Each record starts with its length, so a reader can skip to the event it
// wants, and with the event's id, so an id check decodes nothing else.
//
//   record   := varint(body length) body
//   body     := str(id) str(type) zigzag(timestamp) varint(schema_version)
//               byte(flags: 1 = id_derived) object(payload) object(metadata)
//   str      := varint(length) bytes
//   value    := tag byte, then: nothing (null, false, true), zigzag (int64),
//               varint (uint64), 8 bytes little endian (double), str,
//               varint(n) value* (array), varint(n) (str value)* (object)
//
// Decoding checks every length against the bytes at hand: corrupt data is a
// storage_error, never a crash.

#include <cstdint>
#include <string>
#include <string_view>

#include "bus/event.hpp"

namespace bus::internal {

/// Appends `x` to `out` as a base-128 varint.
void put_varint(std::string& out, std::uint64_t x);

/// Reads a varint from the front of `in` and drops it from `in`; throws
/// storage_error when `in` ends inside it.
std::uint64_t take_varint(std::string_view& in);

/// Appends the record of `e` to `out`.
void encode_event(const event& e, std::string& out);

/// Walks the records of a row, front to back.
class record_cursor {
public:
  record_cursor(const void* data, std::size_t size)
    : pos_(static_cast<const unsigned char*>(data)), end_(pos_ + size) {
    // nop
  }

  /// True when every record has been taken.
  bool at_end() const noexcept { return pos_ == end_; }

  /// Returns the next record's body and moves past it; throws storage_error
  /// when the row ends inside the record.
  std::string_view next();

private:
  const unsigned char* pos_;
  const unsigned char* end_;
};

/// Returns the id of the event in `body`; throws storage_error if corrupt.
std::string_view record_id(std::string_view body);

/// Decodes the event in `body` into the empty event `out` and gives it
/// `seq`; throws storage_error naming `seq` if the record is corrupt.
void decode_event(std::string_view body, std::uint64_t seq, event& out);

} // namespace bus::internal
