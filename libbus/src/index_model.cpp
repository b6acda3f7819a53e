#include "bus/index_model.hpp"

#include <algorithm>

#include "bus/snapshot_rows.hpp"
#include "internal/event_record.hpp"
#include "internal/record_reader.hpp"
#include "internal/string_map.hpp"
#include "internal/type_rules.hpp"

namespace bus {

struct index_model::tables {
  internal::string_map<internal::compact_string> index;   // value -> primary
  internal::string_map<internal::compact_string> current; // primary -> value
};

index_model::index_model(index_model_config cfg)
  : cfg_(std::move(cfg)),
    key_path_(cfg_.key),
    target_path_(cfg_.target),
    tables_(std::make_unique<tables>()) {
  auto add = [this](const std::vector<std::string>& types, bool is_delete) {
    for (auto& t : types) {
      if (std::find(types_.begin(), types_.end(), t) == types_.end())
        types_.push_back(t);
      is_delete_.emplace_back(t, is_delete);
    }
  };
  add(cfg_.set_on, false);
  add(cfg_.delete_on, true);
}

index_model::~index_model() {
  // nop: here, where `tables` is complete
}

void index_model::drop(std::string_view primary) {
  auto i = tables_->current.find(primary);
  if (i == tables_->current.end())
    return;
  if (auto j = tables_->index.find(i->second);
      j != tables_->index.end() && j->second == primary) {
    if (tracking_)
      changed_.emplace_back(j->first.view());
    tables_->index.erase(j);
  }
  tables_->current.erase(i);
}

bool index_model::apply(const event& e) {
  auto* i = internal::find_rule(is_delete_, e.type);
  if (i == nullptr)
    return false;
  std::string primary_buffer;
  auto primary = target_path_.find_key(e.payload, primary_buffer);
  if (!primary)
    return false;
  if (i->second) {
    drop(*primary);
    return true;
  }
  // An event without the indexed field leaves the entry as it was: updates
  // carry only what changed.
  std::string value_buffer;
  auto value = key_path_.find_key(e.payload, value_buffer);
  if (!value)
    return true;
  auto c = tables_->current.find(*primary);
  if (c != tables_->current.end() && c->second == *value)
    return true;
  if (tracking_) {
    // The value now maps here; the key's previous value maps nowhere.
    changed_.emplace_back(*value);
    if (c != tables_->current.end())
      changed_.emplace_back(c->second.view());
  }
  if (c != tables_->current.end())
    if (auto j = tables_->index.find(c->second);
        j != tables_->index.end() && j->second == *primary)
      tables_->index.erase(j);
  // One lookup: a value new to the index (the common case) needs its key
  // built anyway.
  auto [j, inserted] = tables_->index.try_emplace(internal::compact_string{*value});
  if (!inserted) // a value taken over from another key moves to this one
    if (auto other = tables_->current.find(j->second); other != tables_->current.end())
      tables_->current.erase(other);
  j->second.assign(*primary);
  // Erasing leaves other iterators valid: `c` still points at the key.
  if (c != tables_->current.end())
    c->second.assign(*value);
  else
    tables_->current.emplace(internal::compact_string{*primary},
                             internal::compact_string{*value});
  return true;
}

std::optional<std::string> index_model::key_of(const event& e) const {
  // The target, not the indexed value: an entity's events decide which
  // value it holds, and an update may not carry the value at all.
  // Per-target order does not cover a value two entities claim in turn: if
  // the first claim is parked and the second applied, retrying the first
  // takes the value back, where the log's order leaves it with the second.
  return target_path_.find_key(e.payload);
}

std::optional<boost::json::value> index_model::query(std::string_view key) const {
  if (auto i = tables_->index.find(key); i != tables_->index.end())
    return boost::json::value(i->second.view());
  return std::nullopt;
}

bool index_model::write_value(std::string_view key, std::string& out) const {
  auto i = tables_->index.find(key);
  if (i == tables_->index.end())
    return false;
  append_json(out, i->second.view());
  return true;
}

row_form index_model::snapshot_row_form() const noexcept {
  return row_form::record;
}

bool index_model::write_record(std::string_view key, std::string& out) const {
  auto i = tables_->index.find(key);
  if (i == tables_->index.end())
    return false;
  auto primary = i->second.view();
  // The tag and the length in one append.
  char head[1 + internal::max_varint_size];
  head[0] = static_cast<char>(internal::tag_string);
  out.append(head, 1 + internal::write_varint(head + 1, primary.size()));
  out.append(primary.data(), primary.size());
  return true;
}

bool index_model::restore_record(std::string_view key, std::string_view value) {
  if (value.empty()
      || static_cast<unsigned char>(value.front()) != internal::tag_string)
    return false;
  internal::record_reader r{value.substr(1)};
  auto primary = r.str();
  tables_->index.emplace(internal::compact_string{key},
                         internal::compact_string{primary});
  tables_->current.emplace(internal::compact_string{primary},
                           internal::compact_string{key});
  return true;
}

bool index_model::holds(std::string_view key) const {
  return tables_->index.find(key) != tables_->index.end();
}

boost::json::value index_model::snapshot() const {
  boost::json::object result;
  for (auto& [value, primary] : tables_->index)
    result[value.view()] = primary.view();
  return result;
}

void index_model::reset() {
  tables_->index.clear();
  tables_->current.clear();
  changed_.clear();
}

bool index_model::track_changes() {
  tracking_ = true;
  return true;
}

void index_model::take_changes(std::vector<std::string>& out) {
  if (out.empty())
    out.swap(changed_);
  else
    out.insert(out.end(), changed_.begin(), changed_.end());
  changed_.clear();
}

} // namespace bus

namespace bus {

bool index_model::restore(const boost::json::value& state) {
  auto* obj = state.if_object();
  if (obj == nullptr)
    return false;
  reset();
  expect_rows(obj->size());
  for (auto& kv : *obj) {
    if (!restore_row(kv.key(), kv.value())) {
      reset();
      return false;
    }
  }
  return true;
}

void index_model::expect_rows(std::size_t rows) {
  tables_->index.reserve(tables_->index.size() + rows);
  tables_->current.reserve(tables_->current.size() + rows);
}

bool index_model::restore_row(std::string_view key, const boost::json::value& value) {
  auto* primary = value.if_string();
  if (primary == nullptr)
    return false;
  tables_->index.emplace(internal::compact_string{key},
                         internal::compact_string{*primary});
  tables_->current.emplace(internal::compact_string{*primary},
                           internal::compact_string{key});
  return true;
}

std::string index_model::definition() const {
  auto list = internal::join_types;
  return "index;" + cfg_.key + ";" + cfg_.target + ";set:" + list(cfg_.set_on)
         + ";delete:" + list(cfg_.delete_on);
}

} // namespace bus
