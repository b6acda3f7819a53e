#include "bus/document_model.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <stdexcept>

#include "bus/snapshot_rows.hpp"
#include "internal/event_record.hpp"
#include "internal/string_map.hpp"
#include "internal/type_rules.hpp"

namespace bus {

namespace {

// A copy in the default storage: a document must not keep alive the memory
// of the event it came from (bus-node parses each chunk of input into an
// arena of its own, freed once its events are done).
boost::json::object own_copy(const boost::json::object& x) {
  return boost::json::object(x, boost::json::storage_ptr{});
}

// A payload still in its record is decoded straight into the copy.
boost::json::object own_copy(const event_payload& x) {
  return x.copy(boost::json::storage_ptr{});
}

// `to = from`, reusing the capacity of a string replaced by a string (the
// common update of a field), where value assignment allocates anew.
void assign_reusing(boost::json::value& to, const boost::json::value& from) {
  if (auto* s = to.if_string(); s != nullptr && from.is_string())
    s->assign(from.get_string());
  else
    to = from;
}

// Merges the fields of `from` into `doc`. A document usually has the
// fields of the payloads merged into it in the same order: each field is
// looked for at its own position first, then searched.
void merge(boost::json::object& doc, const boost::json::object& from) {
  std::size_t i = 0;
  for (auto& kv : from) {
    if (i < doc.size() && doc.begin()[i].key() == kv.key())
      assign_reusing(doc.begin()[i].value(), kv.value());
    else
      assign_reusing(doc[kv.key()], kv.value());
    ++i;
  }
}

// Sets `to` to the scalar or string `x`, reusing a string's capacity.
void assign_field(boost::json::value& to, const payload_field& x) {
  switch (x.kind()) {
    case field_kind::string:
      if (auto* s = to.if_string())
        s->assign(x.as_string());
      else
        to.emplace_string().assign(x.as_string());
      return;
    case field_kind::int64:
      to = x.as_int64();
      return;
    case field_kind::uint64:
      to = x.as_uint64();
      return;
    case field_kind::number:
      to = x.as_double();
      return;
    case field_kind::boolean:
      to = x.as_bool();
      return;
    default:
      to = nullptr;
      return;
  }
}

// Payloads of up to this many fields are merged from their record.
constexpr std::size_t walked_fields = 16;

// Calls `f(i, key, value)` for the i-th distinct top-level field of the
// checked record `bytes`, up to walked_fields of them, while f returns
// true. A key the record holds twice counts once, its first value. Returns
// the number of fields passed, or walk_stopped if f stopped the walk.
constexpr std::size_t walk_stopped = std::numeric_limits<std::size_t>::max();

template <class F>
std::size_t each_field(std::string_view bytes, F f) {
  std::array<std::string_view, walked_fields> seen;
  std::size_t i = 0;
  internal::field_walker fields{bytes};
  std::string_view key;
  payload_field value;
  while (fields.next(key, value)) {
    if (std::find(seen.begin(), seen.begin() + static_cast<std::ptrdiff_t>(i), key)
        != seen.begin() + static_cast<std::ptrdiff_t>(i))
      continue;
    if (!f(i, key, value))
      return walk_stopped;
    seen[i++] = key;
  }
  return i;
}

// Sets `to` to the field `key` of `from`, read by each_field as `value`:
// arrays and objects from the decoded payload, the rest from the record.
void assign_walked(boost::json::value& to, const event_payload& from,
                   std::string_view key, const payload_field& value) {
  if (value.kind() == field_kind::array || value.kind() == field_kind::object)
    assign_reusing(to, from.object().at(key));
  else
    assign_field(to, value);
}

// As merge() above, reading the fields of a payload still in its record
// (bus-node's input, a catch-up) in one pass: no object of the payload is
// built unless a field is an array or an object. A key the record holds
// twice (passed through from a peer) counts once, its first value, as in
// the decoded object and field().
void merge(boost::json::object& doc, const event_payload& from) {
  auto bytes = from.encoded_bytes();
  if (bytes.empty() || internal::object_size(bytes) > walked_fields) {
    merge(doc, from.object());
    return;
  }
  each_field(bytes, [&](std::size_t i, std::string_view key,
                        const payload_field& value) {
    auto& to = i < doc.size() && doc.begin()[i].key() == key ? doc.begin()[i].value()
                                                             : doc[key];
    assign_walked(to, from, key, value);
    return true;
  });
}

// Refills `doc` with the values of `from` in one pass when it has the
// fields of `from`, in the same order, and no other: it then equals a
// fresh copy of `from`. False otherwise, `doc` partly refilled.
bool refill(boost::json::object& doc, const event_payload& from) {
  auto bytes = from.encoded_bytes();
  if (bytes.empty() || internal::object_size(bytes) > walked_fields) {
    auto& obj = from.object();
    if (obj.size() != doc.size())
      return false;
    auto d = doc.begin();
    for (auto& kv : obj) {
      if (d->key() != kv.key())
        return false;
      assign_reusing((d++)->value(), kv.value());
    }
    return true;
  }
  auto n = each_field(bytes, [&](std::size_t i, std::string_view key,
                                 const payload_field& value) {
    if (i >= doc.size() || doc.begin()[i].key() != key)
      return false;
    assign_walked(doc.begin()[i].value(), from, key, value);
    return true;
  });
  return n == doc.size();
}

// Deleted documents kept for the next new ones, per model: users come and
// go, and a document refilled in place reuses its table, keys and strings
// where a fresh one allocates each (about five allocations for three
// fields). Bounded, so that a mass delete keeps little.
constexpr std::size_t spare_documents = 1024;

} // namespace

struct document_model::documents {
  internal::string_map<boost::json::object> map;
  std::vector<boost::json::object> spare;

  // A document equal to `payload`, refilling a spare one if it has the
  // same fields.
  boost::json::object make(const event_payload& payload) {
    if (!spare.empty()) {
      auto doc = std::move(spare.back());
      spare.pop_back();
      if (refill(doc, payload))
        return doc;
    }
    return own_copy(payload);
  }

  void remove(decltype(map)::iterator i) {
    if (spare.size() < spare_documents)
      spare.push_back(std::move(i->second));
    map.erase(i);
  }
};

document_model::document_model(document_model_config cfg)
  : cfg_(std::move(cfg)), key_path_(cfg_.key), docs_(std::make_unique<documents>()) {
  for (auto& field : cfg_.require)
    required_.emplace_back(field);
  auto add = [this](const std::vector<std::string>& types, action what) {
    for (auto& t : types) {
      if (std::find(types_.begin(), types_.end(), t) == types_.end())
        types_.push_back(t);
      actions_.emplace_back(t, what);
    }
  };
  add(cfg_.upsert_on, action::upsert);
  add(cfg_.merge_on, action::merge);
  add(cfg_.delete_on, action::remove);
}

document_model::~document_model() {
  // nop: here, where `documents` is complete
}

bool document_model::apply(const event& e) {
  auto* i = internal::find_rule(actions_, e.type);
  if (i == nullptr)
    return false;
  std::string buffer;
  auto key = key_path_.find_key(e.payload, buffer);
  if (!key)
    return false;
  if (i->second != action::remove)
    for (std::size_t k = 0; k < required_.size(); ++k)
      if (required_[k].find(e.payload) == nullptr)
        throw std::runtime_error("event '" + e.id + "' (" + e.type
                                 + ") lacks the required field '" + cfg_.require[k]
                                 + "'");
  switch (i->second) {
    case action::upsert:
      if (auto d = docs_->map.find(*key); d == docs_->map.end())
        docs_->map.emplace(internal::compact_string{*key}, docs_->make(e.payload));
      else if (!refill(d->second, e.payload)) // replaced in place, or
        d->second = own_copy(e.payload);      // into the document's own storage
      break;
    case action::merge:
      if (auto d = docs_->map.find(*key); d != docs_->map.end()) {
        merge(d->second, e.payload);
      } else {
        // A new document is the payload, fields in the payload's order.
        docs_->map.emplace(internal::compact_string{*key}, docs_->make(e.payload));
      }
      break;
    case action::remove:
      if (auto d = docs_->map.find(*key); d != docs_->map.end())
        docs_->remove(d);
      break;
  }
  if (tracking_)
    changed_.emplace_back(*key);
  return true;
}

std::optional<std::string> document_model::key_of(const event& e) const {
  // Nothing for an event without the key: apply() ignores it, so it can
  // neither fail nor be held back.
  return key_path_.find_key(e.payload);
}

std::optional<boost::json::value> document_model::query(std::string_view key) const {
  if (auto i = docs_->map.find(key); i != docs_->map.end())
    return boost::json::value(i->second);
  return std::nullopt;
}

bool document_model::write_value(std::string_view key, std::string& out) const {
  // No copy of the document.
  auto i = docs_->map.find(key);
  if (i == docs_->map.end())
    return false;
  append_json(out, i->second);
  return true;
}

boost::json::value document_model::snapshot() const {
  boost::json::object result;
  for (auto& [key, doc] : docs_->map)
    result[key.view()] = doc;
  return result;
}

} // namespace bus

namespace bus {

bool document_model::restore(const boost::json::value& state) {
  auto* obj = state.if_object();
  if (obj == nullptr)
    return false;
  reset();
  docs_->map.reserve(obj->size());
  for (auto& kv : *obj) {
    auto* doc = kv.value().if_object();
    if (doc == nullptr) {
      docs_->map.clear();
      return false;
    }
    docs_->map.emplace(internal::compact_string{kv.key()}, own_copy(*doc));
  }
  return true;
}

void document_model::reset() {
  docs_->map.clear();
  docs_->spare.clear();
  changed_.clear();
}

bool document_model::track_changes() {
  tracking_ = true;
  return true;
}

void document_model::take_changes(std::vector<std::string>& out) {
  if (out.empty())
    out.swap(changed_);
  else
    out.insert(out.end(), changed_.begin(), changed_.end());
  changed_.clear();
}

std::string document_model::definition() const {
  auto list = internal::join_types;
  return "document;" + cfg_.key + ";upsert:" + list(cfg_.upsert_on)
         + ";merge:" + list(cfg_.merge_on) + ";delete:"
         + list(cfg_.delete_on)
         // Only when set, so that stored snapshots of models without it
         // still match their definition.
         + (cfg_.require.empty() ? "" : ";require:" + list(cfg_.require));
}

} // namespace bus
