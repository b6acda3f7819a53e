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

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bus/event.hpp"

namespace bus::internal {

/// The most bytes a varint takes.
constexpr std::size_t max_varint_size = 10;

/// Writes `x` as a base-128 varint at `out`, which has room for
/// max_varint_size bytes; returns the bytes written.
inline std::size_t write_varint(char* out, std::uint64_t x) noexcept {
  std::size_t n = 0;
  while (x >= 0x80) {
    out[n++] = static_cast<char>(x | 0x80);
    x >>= 7;
  }
  out[n++] = static_cast<char>(x);
  return n;
}

/// Appends `x` to `out` as a base-128 varint.
void put_varint(std::string& out, std::uint64_t x);

/// Reads a varint from the front of `in` and drops it from `in`; throws
/// storage_error when `in` ends inside it.
std::uint64_t take_varint(std::string_view& in);

/// Appends the record of `e` to `out`.
void encode_event(const event& e, std::string& out);

/// Appends the encoded form of `obj` (the object of a record) to `out`.
void encode_object(const boost::json::object& obj, std::string& out);

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

/// Like decode_event, but leaves the payload encoded: it views `body`,
/// which must outlive `out` (see share_events). The payload's bytes are
/// checked here, so decoding them later cannot fail.
void decode_event_lazy(std::string_view body, std::uint64_t seq, event& out);

/// Checks the encoded object at the front of `bytes` and returns its length;
/// throws storage_error if it is corrupt.
std::size_t check_object(std::string_view bytes);

/// Returns false when the checked encoded object `bytes` holds a number
/// that is not finite (NaN or an infinity), at any depth.
bool finite_object(std::string_view bytes);

/// Decodes the checked encoded object `bytes` into `out`.
void decode_object(std::string_view bytes, boost::json::object& out);

/// Returns the number of fields of the checked encoded object `bytes`.
std::size_t object_size(std::string_view bytes);

/// Returns the top-level field `key` of the checked encoded object `bytes`.
payload_field find_field(std::string_view bytes, std::string_view key);

/// Walks the top-level fields of a checked encoded object, reading each as
/// event_payload::field does (arrays and objects only say their kind).
class field_walker {
public:
  explicit field_walker(std::string_view bytes);

  /// Reads the next field into `key` and `value`; false when none is left.
  bool next(std::string_view& key, payload_field& value);

  /// Reads the next field's key, and its value as the bytes that encode it
  /// (tag first), to be copied into another record; false when none is left.
  bool next_raw(std::string_view& key, std::string_view& value);

private:
  const char* pos_;
  const char* end_;
  std::size_t left_;
};

/// Collects the records of a read, copied into one buffer, and decodes them
/// lazily into events that share the buffer: a reader that looks at a few
/// payload fields never decodes the rest (see event_payload.hpp).
class lazy_records {
public:
  /// Expects about `n` records.
  explicit lazy_records(std::size_t n);

  /// Takes a copy of the record `body` of the event `seq`.
  void add(std::string_view body, std::uint64_t seq);

  std::size_t size() const noexcept { return seqs_.size(); }

  /// Decodes the records taken so far; throws storage_error naming the
  /// first corrupt record's seq.
  shared_events finish();

private:
  std::shared_ptr<std::string> bytes_;
  std::vector<std::uint64_t> seqs_;
  std::vector<std::size_t> ends_;
};

} // namespace bus::internal
