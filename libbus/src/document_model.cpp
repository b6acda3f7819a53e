#include "bus/document_model.hpp"

#include <algorithm>
#include <stdexcept>

#include "internal/document_record.hpp"
#include "internal/record_tags.hpp"
#include "internal/row_json.hpp"
#include "internal/string_map.hpp"
#include "internal/type_rules.hpp"

namespace bus {

namespace {

// Deleted documents kept for the next new ones, per model: users come and
// go, and a new document written into a spare one's buffer allocates
// nothing. Bounded, so that a mass delete keeps little.
constexpr std::size_t spare_documents = 1024;

} // namespace

// The documents in record form (internal/document_record.hpp).
struct document_model::documents {
  internal::string_map<std::string> map;
  std::vector<std::string> spare;
  internal::document_scratch scratch;

  // A document of `payload`, in a spare one's buffer if there is one.
  std::string make(const event_payload& payload) {
    std::string doc;
    if (!spare.empty()) {
      doc = std::move(spare.back());
      spare.pop_back();
    }
    internal::set_document(doc, payload, scratch);
    return doc;
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
      else
        internal::set_document(d->second, e.payload, docs_->scratch);
      break;
    case action::merge:
      if (auto d = docs_->map.find(*key); d != docs_->map.end()) {
        internal::merge_document(d->second, e.payload, docs_->scratch);
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
    return boost::json::value(internal::decode_document(i->second));
  return std::nullopt;
}

bool document_model::write_value(std::string_view key, std::string& out) const {
  // No copy of the document.
  auto i = docs_->map.find(key);
  if (i == docs_->map.end())
    return false;
  internal::append_object_json(out, i->second);
  return true;
}

row_form document_model::snapshot_row_form() const noexcept {
  return row_form::record;
}

bool document_model::write_record(std::string_view key, std::string& out) const {
  // The document's bytes are an encoded object already: a copy.
  auto i = docs_->map.find(key);
  if (i == docs_->map.end())
    return false;
  out += static_cast<char>(internal::tag_object);
  out.append(i->second.data(), i->second.size());
  return true;
}

bool document_model::holds(std::string_view key) const {
  return docs_->map.find(key) != docs_->map.end();
}

boost::json::value document_model::snapshot() const {
  boost::json::object result;
  for (auto& [key, doc] : docs_->map)
    result[key.view()] = internal::decode_document(doc);
  return result;
}

} // namespace bus

namespace bus {

bool document_model::restore(const boost::json::value& state) {
  auto* obj = state.if_object();
  if (obj == nullptr)
    return false;
  reset();
  expect_rows(obj->size());
  for (auto& kv : *obj) {
    if (!restore_row(kv.key(), kv.value())) {
      docs_->map.clear();
      return false;
    }
  }
  return true;
}

void document_model::expect_rows(std::size_t rows) {
  docs_->map.reserve(docs_->map.size() + rows);
}

bool document_model::restore_row(std::string_view key,
                                 const boost::json::value& value) {
  auto* doc = value.if_object();
  if (doc == nullptr || internal::holds_nan(value))
    return false;
  std::string encoded;
  internal::set_document(encoded, *doc);
  docs_->map.emplace(internal::compact_string{key}, std::move(encoded));
  return true;
}

bool document_model::restore_record(std::string_view key, std::string_view value) {
  if (value.empty()
      || static_cast<unsigned char>(value.front()) != internal::tag_object)
    return false;
  // A document holds no key twice (what the fast paths of apply() rely
  // on): a row that does, or has more fields than that check reads, goes
  // the long way, as a JSON row would.
  auto bytes = value.substr(1);
  internal::document_fields fields;
  if (!fields.read(bytes))
    return read_model::restore_record(key, value);
  docs_->map.emplace(internal::compact_string{key}, std::string{bytes});
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
