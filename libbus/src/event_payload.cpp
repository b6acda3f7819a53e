#include "bus/event_payload.hpp"

#include <limits>
#include <new>
#include <stdexcept>
#include <thread>

#include "internal/event_record.hpp"

namespace bus {

// -- payload_field ------------------------------------------------------------

void payload_field::wrong_kind(const char* wanted) {
  throw std::invalid_argument(std::string{"payload field is not "} + wanted);
}

std::int64_t payload_field::uint64_as_int64() const {
  if (kind_ == field_kind::uint64
      && num_.u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    return static_cast<std::int64_t>(num_.u);
  wrong_kind("an int64");
}

std::uint64_t payload_field::as_uint64() const {
  if (kind_ == field_kind::uint64)
    return num_.u;
  if (kind_ == field_kind::int64 && num_.i >= 0)
    return static_cast<std::uint64_t>(num_.i);
  wrong_kind("a uint64");
}

double payload_field::as_double() const {
  switch (kind_) {
    case field_kind::int64:
      return static_cast<double>(num_.i);
    case field_kind::uint64:
      return static_cast<double>(num_.u);
    case field_kind::number:
      return num_.d;
    default:
      wrong_kind("a number");
  }
}

// -- event_payload ------------------------------------------------------------

event_payload::event_payload(boost::json::storage_ptr sp) noexcept
  : value_(std::move(sp)) {
  // nop
}

event_payload::event_payload(boost::json::object obj) noexcept
  : value_(std::move(obj)) {
  // nop
}

event_payload event_payload::encoded(std::string_view bytes) noexcept {
  event_payload result;
  result.assign_encoded(bytes);
  return result;
}

event_payload event_payload::encoded(std::string_view bytes,
                                     boost::json::storage_ptr keep,
                                     payload_numbers numbers) noexcept {
  auto result = encoded(bytes);
  result.keep_ = std::move(keep);
  result.numbers_ = numbers;
  return result;
}

void event_payload::assign_encoded(std::string_view bytes) noexcept {
  // A payload made by the default constructor holds no table and the
  // default storage: nothing to free (the common case, and no call into
  // Boost.JSON). Otherwise the object is made anew, as the move
  // assignment does, so that it keeps no other storage alive.
  if (value_.capacity() != 0
      || value_.storage().get() != boost::json::storage_ptr{}.get()) {
    value_.~object();
    ::new (&value_) boost::json::object();
  }
  keep_ = {};
  bytes_ = bytes;
  form_.store(form::encoded, std::memory_order_relaxed);
  numbers_ = payload_numbers::unchecked;
}

event_payload::event_payload(const event_payload& other) : value_(other.object()) {
  // nop
}

event_payload::event_payload(event_payload&& other) noexcept
  : value_(std::move(other.value_)),
    bytes_(other.bytes_),
    keep_(std::move(other.keep_)),
    form_(other.form_.load(std::memory_order_relaxed)),
    numbers_(other.numbers_) {
  // nop
}

event_payload& event_payload::operator=(const event_payload& other) {
  if (this != &other) {
    value_ = other.object();
    bytes_ = {};
    keep_ = {};
    form_.store(form::decoded, std::memory_order_relaxed);
    numbers_ = payload_numbers::unchecked;
  }
  return *this;
}

event_payload& event_payload::operator=(event_payload&& other) noexcept {
  if (this != &other) {
    // The object is made anew with other's storage, as the move
    // constructor does: an assignment would keep this one's, copying the
    // fields across storages, and a payload moved into a request made with
    // a chunk's arena would count a reference on the arena with every later
    // move of its event (docs/benchmarks.md, "References on the input's
    // arena": gone from the profile, no change in time).
    value_.~object();
    ::new (&value_) boost::json::object(std::move(other.value_));
    bytes_ = other.bytes_;
    keep_ = std::move(other.keep_);
    form_.store(other.form_.load(std::memory_order_relaxed), std::memory_order_relaxed);
    numbers_ = other.numbers_;
  }
  return *this;
}

event_payload& event_payload::operator=(boost::json::object obj) noexcept {
  value_ = std::move(obj);
  bytes_ = {};
  keep_ = {};
  form_.store(form::decoded, std::memory_order_relaxed);
  numbers_ = payload_numbers::unchecked;
  return *this;
}

bool event_payload::decoded() const noexcept {
  return form_.load(std::memory_order_acquire) == form::decoded;
}

const boost::json::object& event_payload::object() const {
  if (form_.load(std::memory_order_acquire) != form::decoded)
    decode();
  return value_;
}

boost::json::object& event_payload::mutate() {
  if (form_.load(std::memory_order_acquire) != form::decoded)
    decode();
  bytes_ = {};
  keep_ = {};                            // the object is on the heap
  numbers_ = payload_numbers::unchecked; // the owner may write any number
  return value_;
}

boost::json::object event_payload::copy(boost::json::storage_ptr sp) const {
  if (form_.load(std::memory_order_acquire) == form::decoded)
    return boost::json::object(value_, std::move(sp));
  boost::json::object result(std::move(sp));
  internal::decode_object(bytes_, result);
  return result;
}

void event_payload::decode() const {
  auto expected = form::encoded;
  if (form_.compare_exchange_strong(expected, form::decoding,
                                    std::memory_order_acquire)) {
    try {
      internal::decode_object(bytes_, value_);
    } catch (...) {
      value_.clear(); // out of memory: the next reader tries again
      form_.store(form::encoded, std::memory_order_release);
      throw;
    }
    form_.store(form::decoded, std::memory_order_release);
    return;
  }
  // Another reader decodes it: a few hundred nanoseconds for a small payload.
  while (form_.load(std::memory_order_acquire) == form::decoding)
    std::this_thread::yield();
  if (form_.load(std::memory_order_acquire) == form::encoded)
    decode(); // that reader ran out of memory
}

payload_field event_payload::field(std::string_view key) const {
  if (form_.load(std::memory_order_acquire) == form::decoded) {
    auto* v = value_.if_contains(key);
    if (v == nullptr)
      return {};
    switch (v->kind()) {
      case boost::json::kind::null:
        return payload_field::of_null();
      case boost::json::kind::bool_:
        return payload_field::of(v->get_bool());
      case boost::json::kind::int64:
        return payload_field::of(v->get_int64());
      case boost::json::kind::uint64:
        return payload_field::of(v->get_uint64());
      case boost::json::kind::double_:
        return payload_field::of(v->get_double());
      case boost::json::kind::string: {
        auto& s = v->get_string();
        return payload_field::of(std::string_view{s.data(), s.size()});
      }
      case boost::json::kind::array:
        return payload_field::of_kind(field_kind::array);
      case boost::json::kind::object:
        return payload_field::of_kind(field_kind::object);
    }
    return {};
  }
  // Encoded or being decoded: the bytes stay valid either way.
  return internal::find_field(bytes_, key);
}

std::size_t event_payload::size() const {
  if (form_.load(std::memory_order_acquire) == form::decoded)
    return value_.size();
  return internal::object_size(bytes_);
}

} // namespace bus
