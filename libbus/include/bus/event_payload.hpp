#pragma once

// An event's payload: a JSON object, either built (by a publisher, a parser,
// an upcaster) or still in the compact record bytes it was read from (a
// catch-up, a rebuild). A record's payload is decoded into an object the
// first time a reader asks for the object, once for every reader of the
// event; `field` reads one top-level field straight from the record and
// decodes nothing, so a model that reads a few fields never pays for the
// rest.
//
// Threads: const members may be called from any number of threads at once
// (the first decode is guarded; later readers see the decoded object).
// Non-const members are for the owner of an event that no one else sees
// yet. The record bytes a payload views belong to the storage of the batch
// that holds the event (see share_events in event.hpp); a copy of the
// payload is always decoded and owns its object.

#include <atomic>
#include <cstdint>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace bus {

/// The kind of a payload field read with event_payload::field.
enum class field_kind : std::uint8_t {
  /// The payload has no such field.
  absent,
  null,
  boolean,
  int64,
  uint64,
  /// A double.
  number,
  string,
  array,
  object,
};

/// What is known of a payload's numbers. The bus refuses an event holding
/// a number JSON cannot carry (NaN, an infinity), walking each payload it
/// is sent for one; a payload whose writer saw every number says so, and
/// is not walked again.
enum class payload_numbers : std::uint8_t {
  /// Not known: the bus checks them.
  unchecked,
  /// Every number is finite (say, written by a payload_writer that saw no
  /// other).
  finite,
};

/// One top-level field of a payload, read without decoding the payload.
/// Scalars and strings are readable; a string views the payload's storage
/// and lives as long as the event does. Arrays and objects only say their
/// kind: read them from event_payload::object().
class payload_field {
public:
  payload_field() = default;

  field_kind kind() const noexcept { return kind_; }

  /// True unless the field is absent.
  explicit operator bool() const noexcept { return kind_ != field_kind::absent; }

  /// The value of a boolean field; throws std::invalid_argument otherwise.
  bool as_bool() const {
    if (kind_ != field_kind::boolean)
      wrong_kind("a boolean");
    return num_.b;
  }

  /// The value of an int64 field, or of a uint64 field that fits; throws
  /// std::invalid_argument otherwise.
  std::int64_t as_int64() const {
    if (kind_ == field_kind::int64)
      return num_.i;
    return uint64_as_int64();
  }

  /// The value of a uint64 field, or of a non-negative int64 field; throws
  /// std::invalid_argument otherwise.
  std::uint64_t as_uint64() const;

  /// The value of any number field as a double; throws
  /// std::invalid_argument for other kinds.
  double as_double() const;

  /// The value of a string field; throws std::invalid_argument otherwise.
  std::string_view as_string() const {
    if (kind_ != field_kind::string)
      wrong_kind("a string");
    return str_;
  }

  // Inline, as the accessors' common paths: a model reads a field or two
  // of every event, and each read went through calls into the library.

  static payload_field of_null() noexcept { return of_kind(field_kind::null); }

  static payload_field of(bool x) noexcept {
    return holding(field_kind::boolean, &number::b, x);
  }

  static payload_field of(std::int64_t x) noexcept {
    return holding(field_kind::int64, &number::i, x);
  }

  static payload_field of(std::uint64_t x) noexcept {
    return holding(field_kind::uint64, &number::u, x);
  }

  static payload_field of(double x) noexcept {
    return holding(field_kind::number, &number::d, x);
  }

  static payload_field of(std::string_view x) noexcept {
    auto f = of_kind(field_kind::string);
    f.str_ = x;
    return f;
  }

  static payload_field of_kind(field_kind k) noexcept {
    payload_field f;
    f.kind_ = k;
    return f;
  }

private:
  /// Throws the std::invalid_argument of a field that is not `wanted`.
  [[noreturn]] static void wrong_kind(const char* wanted);

  /// as_int64() of a field that is not an int64.
  std::int64_t uint64_as_int64() const;

  union number {
    bool b;
    std::int64_t i;
    std::uint64_t u;
    double d;
  };

  /// A field of kind `k` whose value is `x`, kept in `member`.
  template <class T>
  static payload_field holding(field_kind k, T number::*member, T x) noexcept {
    auto f = of_kind(k);
    f.num_.*member = x;
    return f;
  }

  field_kind kind_ = field_kind::absent;
  number num_ = {};
  std::string_view str_;
};

/// The payload of an event (see the top of this file).
class event_payload {
public:
  /// An empty object.
  event_payload() noexcept = default;

  /// An empty object that allocates from `sp`.
  explicit event_payload(boost::json::storage_ptr sp) noexcept;

  /// Takes `obj`.
  event_payload(boost::json::object obj) noexcept;

  /// A payload in the encoded form of a record's object (event_record.hpp),
  /// which must be well-formed and outlive the payload.
  static event_payload encoded(std::string_view bytes) noexcept;

  /// A payload in the encoded form `bytes` (well-formed, e.g. written by a
  /// payload_writer), which lie in memory that `keep` owns: the payload and
  /// what it is moved into keep that memory alive. Decoding allocates from
  /// the heap.
  static event_payload
  encoded(std::string_view bytes, boost::json::storage_ptr keep,
          payload_numbers numbers = payload_numbers::unchecked) noexcept;

  /// Makes this payload the encoded form `bytes`, as encoded(bytes) would,
  /// dropping what it held (owner only). For a reader that decodes many
  /// records into events made beforehand: no payload built and moved in.
  void assign_encoded(std::string_view bytes) noexcept;

  /// Copies: the copy is decoded and owns its object.
  event_payload(const event_payload& other);

  /// Moves, keeping the encoded form if `other` is still encoded.
  event_payload(event_payload&& other) noexcept;

  event_payload& operator=(const event_payload& other);
  /// Moves, as the move constructor: this payload takes other's form and
  /// the storage of its object.
  event_payload& operator=(event_payload&& other) noexcept;
  event_payload& operator=(boost::json::object obj) noexcept;

  ~event_payload() = default;

  /// True once the payload is an object (always, unless read from a record
  /// and not asked for its object yet).
  bool decoded() const noexcept;

  /// Returns the payload as an object, decoding it the first time.
  const boost::json::object& object() const;

  operator const boost::json::object&() const { return object(); }

  /// Returns the payload's record form (event_record.hpp) if it was read
  /// from a record and not changed since, else an empty view: a writer of
  /// records copies it as it is.
  std::string_view encoded_bytes() const noexcept { return bytes_; }

  /// What is known of the numbers: `finite` as the maker of the encoded
  /// form said, until the payload is changed, assigned or copied.
  payload_numbers numbers() const noexcept { return numbers_; }

  /// Returns a copy of the object that allocates from `sp`; a payload still
  /// in its record is decoded straight into the copy and stays encoded.
  boost::json::object copy(boost::json::storage_ptr sp) const;

  /// Returns the object to change it (owner only, see the top of the file).
  boost::json::object& mutate();

  /// Reads the top-level field `key` without decoding the payload.
  payload_field field(std::string_view key) const;

  // -- the object's reading members, for code written against an object --

  const boost::json::value& at(boost::json::string_view key) const {
    return object().at(key);
  }
  const boost::json::value* if_contains(boost::json::string_view key) const {
    return object().if_contains(key);
  }
  bool contains(boost::json::string_view key) const { return object().contains(key); }
  boost::json::object::const_iterator find(boost::json::string_view key) const {
    return object().find(key);
  }
  boost::json::object::const_iterator begin() const { return object().begin(); }
  boost::json::object::const_iterator end() const { return object().end(); }
  std::size_t size() const;
  bool empty() const { return size() == 0; }
  const boost::json::storage_ptr& storage() const { return object().storage(); }

  // -- and its changing members (owner only) --

  boost::json::value& operator[](boost::json::string_view key) { return mutate()[key]; }
  boost::json::value& at(boost::json::string_view key) { return mutate().at(key); }
  boost::json::value* if_contains(boost::json::string_view key) {
    return mutate().if_contains(key);
  }
  std::size_t erase(boost::json::string_view key) { return mutate().erase(key); }
  void clear() { mutate().clear(); }

  friend bool operator==(const event_payload& x, const event_payload& y) {
    return x.object() == y.object();
  }
  friend bool operator!=(const event_payload& x, const event_payload& y) {
    return !(x == y);
  }
  friend bool operator==(const event_payload& x, const boost::json::object& y) {
    return x.object() == y;
  }
  friend bool operator==(const boost::json::object& x, const event_payload& y) {
    return x == y.object();
  }
  friend bool operator!=(const event_payload& x, const boost::json::object& y) {
    return !(x == y);
  }
  friend bool operator!=(const boost::json::object& x, const event_payload& y) {
    return !(x == y);
  }
  friend bool operator==(const event_payload& x, const boost::json::value& y) {
    return y.is_object() && x.object() == y.get_object();
  }
  friend bool operator==(const boost::json::value& x, const event_payload& y) {
    return y == x;
  }
  friend bool operator!=(const event_payload& x, const boost::json::value& y) {
    return !(x == y);
  }
  friend bool operator!=(const boost::json::value& x, const event_payload& y) {
    return !(y == x);
  }

private:
  /// decoded: `value_` is the payload; encoded: `bytes_` is; decoding: one
  /// reader is turning `bytes_` into `value_`, the others wait for it.
  enum class form : std::uint8_t { decoded, encoded, decoding };

  void decode() const;

  mutable boost::json::object value_;
  std::string_view bytes_;
  /// The owner of the memory `bytes_` views, when the payload keeps it
  /// (an arena of parsed input); empty when the batch keeps it.
  boost::json::storage_ptr keep_;
  mutable std::atomic<form> form_{form::decoded};
  payload_numbers numbers_ = payload_numbers::unchecked;
};

} // namespace bus
