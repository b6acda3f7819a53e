#include "bus/read_model.hpp"

#include <algorithm>

#include "bus/snapshot_rows.hpp"
#include "bus/string_keys.hpp"
#include "bus/subscriptions.hpp"
#include "internal/record_reader.hpp"
#include "internal/row_json.hpp"

namespace bus {

read_model::~read_model() {
  // nop
}

bool read_model::restore(const boost::json::value&) {
  return false;
}

void read_model::expect_rows(std::size_t) {
  // nop: a hint
}

bool read_model::restore_row(std::string_view, const boost::json::value&) {
  return false;
}

std::string read_model::definition() const {
  return {};
}

bool read_model::track_changes() {
  return false;
}

void read_model::take_changes(std::vector<std::string>&) {
  // nop: nothing is recorded
}

bool read_model::write_value(std::string_view key, std::string& out) const {
  auto value = query(key);
  if (!value)
    return false;
  append_json(out, *value);
  return true;
}

row_form read_model::snapshot_row_form() const noexcept {
  return row_form::json;
}

bool read_model::write_record(std::string_view, std::string&) const {
  return false;
}

bool read_model::restore_record(std::string_view key, std::string_view value) {
  // Checked by the caller: a decode cannot fail here.
  internal::record_reader r{value};
  auto decoded = r.value(0);
  if (internal::holds_nan(decoded))
    return false;
  return restore_row(key, decoded);
}

bool read_model::holds(std::string_view key) const {
  std::string discarded;
  return write_value(key, discarded);
}

bool read_model::key_local() const noexcept {
  return false;
}

std::optional<std::string> read_model::key_of(const event&) const {
  return std::nullopt;
}

const char* to_string(model_storage x) noexcept {
  return x == model_storage::sqlite ? "sqlite" : "memory";
}

bool read_model::handles(std::string_view type) const {
  auto& types = event_types();
  // Asked for every event a projector gets: compared in place.
  string_equal eq;
  return std::any_of(types.begin(), types.end(), [&](const auto& t) {
    return eq(t, type) || eq(t, wildcard_type);
  });
}

} // namespace bus
