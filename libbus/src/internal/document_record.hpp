#pragma once

// The documents of a document_model in record form: each one the encoded
// object of a record (event_record.hpp) in one string, no key twice. A
// Boost.JSON object takes a table and a string per long value, three cache
// misses to update; a record takes one allocation, and an update that
// brings every field of the document in the same order (the common one) is
// a copy of the payload's bytes, which bus-node's input and a catch-up
// already hold in this form.

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "bus/event_payload.hpp"

namespace bus::internal {

/// The top-level fields of an encoded object, each as its key and the
/// bytes that encode its value, for objects of up to max_fields fields
/// with no key twice.
class document_fields {
public:
  static constexpr std::size_t max_fields = 16;

  /// Reads the checked encoded object `bytes`; false if it has more than
  /// max_fields fields or a key twice.
  bool read(std::string_view bytes);

  std::size_t size() const noexcept { return size_; }

  /// The index of the field `key`, or size() if there is none.
  std::size_t find(std::string_view key) const noexcept;

  std::string_view key(std::size_t i) const noexcept { return keys_[i]; }
  std::string_view value(std::size_t i) const noexcept { return values_[i]; }

private:
  std::array<std::string_view, max_fields> keys_;
  std::array<std::string_view, max_fields> values_;
  std::size_t size_ = 0;
};

/// Buffers that the document operations below reuse.
struct document_scratch {
  std::string encoded;
  std::string merged;
};

/// Sets `doc` to the document of the payload `p` (an upsert, or the first
/// merge into a key): its fields, a key it holds twice counted once with
/// its first value, as in the payload's decoded object.
void set_document(std::string& doc, const event_payload& p, document_scratch& tmp);

/// Merges the top-level fields of `p` into `doc`: a field `doc` has keeps
/// its place and takes the new value, a new one goes at the end in the
/// payload's order.
void merge_document(std::string& doc, const event_payload& p, document_scratch& tmp);

/// Sets `doc` to the encoded `obj`.
void set_document(std::string& doc, const boost::json::object& obj);

/// Returns the object `doc` encodes. (Its JSON text: append_object_json in
/// row_json.hpp.)
boost::json::object decode_document(std::string_view doc);

} // namespace bus::internal
