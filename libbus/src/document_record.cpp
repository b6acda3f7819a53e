#include "internal/document_record.hpp"

#include "internal/event_record.hpp"

namespace bus::internal {

namespace {

// `doc = bytes`, keeping its buffer when the bytes fit. A new buffer gets
// a little room: the values of a key tend to grow by a character or two
// (counters, emails), and a string that grows doubles its capacity.
void assign_document(std::string& doc, std::string_view bytes) {
  if (bytes.size() <= doc.capacity()) {
    doc.assign(bytes.data(), bytes.size());
    return;
  }
  // Allocations of a multiple of 16 bytes (the string adds one for its
  // final null) fill the allocator's small size classes.
  constexpr std::size_t room = 8;
  std::string fresh;
  fresh.reserve(((bytes.size() + 1 + room + 15) / 16) * 16 - 1);
  fresh.assign(bytes.data(), bytes.size());
  doc.swap(fresh);
}

void put_key(std::string& out, std::string_view key) {
  put_varint(out, key.size());
  out.append(key.data(), key.size());
}

// The payload's record form: its own bytes, or its object encoded into
// `tmp` (a payload built in process).
std::string_view record_of(const event_payload& p, std::string& tmp) {
  if (auto bytes = p.encoded_bytes(); !bytes.empty())
    return bytes;
  tmp.clear();
  encode_object(p.object(), tmp);
  return tmp;
}

// True when the fields of `doc` are those of `fields`, in the same order.
bool same_keys(std::string_view doc, const document_fields& fields) {
  if (object_size(doc) != fields.size())
    return false;
  field_walker walk{doc};
  std::string_view key;
  std::string_view value;
  for (std::size_t i = 0; walk.next_raw(key, value); ++i)
    if (key != fields.key(i))
      return false;
  return true;
}

} // namespace

bool document_fields::read(std::string_view bytes) {
  size_ = 0;
  if (object_size(bytes) > max_fields)
    return false;
  field_walker walk{bytes};
  std::string_view key;
  std::string_view value;
  while (walk.next_raw(key, value)) {
    if (find(key) != size_)
      return false;
    keys_[size_] = key;
    values_[size_] = value;
    ++size_;
  }
  return true;
}

std::size_t document_fields::find(std::string_view key) const noexcept {
  for (std::size_t i = 0; i < size_; ++i)
    if (keys_[i] == key)
      return i;
  return size_;
}

void set_document(std::string& doc, const event_payload& p, document_scratch& tmp) {
  auto bytes = record_of(p, tmp.encoded);
  document_fields fields;
  if (fields.read(bytes)) {
    assign_document(doc, bytes);
    return;
  }
  // A key held twice (only a peer's record can), or many fields: the
  // decoded object keeps the first value of each key.
  set_document(doc, p.object());
}

void merge_document(std::string& doc, const event_payload& p, document_scratch& tmp) {
  auto bytes = record_of(p, tmp.encoded);
  document_fields fields;
  if (!fields.read(bytes)) {
    // As above: through the objects, rare.
    auto merged = decode_document(doc);
    for (auto& kv : p.object())
      merged[kv.key()] = kv.value();
    set_document(doc, merged);
    return;
  }
  if (same_keys(doc, fields)) {
    assign_document(doc, bytes);
    return;
  }
  std::array<bool, document_fields::max_fields> updated{};
  std::size_t n = object_size(doc);
  std::string_view key;
  std::string_view value;
  for (field_walker walk{doc}; walk.next_raw(key, value);)
    if (auto i = fields.find(key); i != fields.size()) {
      updated[i] = true;
      --n;
    }
  auto& out = tmp.merged;
  out.clear();
  put_varint(out, n + fields.size());
  for (field_walker walk{doc}; walk.next_raw(key, value);) {
    auto i = fields.find(key);
    put_key(out, key);
    auto v = i != fields.size() ? fields.value(i) : value;
    out.append(v.data(), v.size());
  }
  for (std::size_t i = 0; i < fields.size(); ++i)
    if (!updated[i]) {
      put_key(out, fields.key(i));
      out.append(fields.value(i).data(), fields.value(i).size());
    }
  assign_document(doc, out);
}

void set_document(std::string& doc, const boost::json::object& obj) {
  doc.clear();
  encode_object(obj, doc);
}

boost::json::object decode_document(std::string_view doc) {
  boost::json::object result;
  decode_object(doc, result);
  return result;
}

} // namespace bus::internal
