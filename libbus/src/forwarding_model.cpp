#include "bus/forwarding_model.hpp"

#include <utility>

namespace bus {

forwarding_model::forwarding_model(read_model_ptr inner) : inner_(std::move(inner)) {
  // nop
}

const std::string& forwarding_model::name() const noexcept {
  return inner_->name();
}

const std::vector<std::string>& forwarding_model::event_types() const noexcept {
  return inner_->event_types();
}

bool forwarding_model::apply(const event& e) {
  return inner_->apply(e);
}

std::optional<boost::json::value> forwarding_model::query(std::string_view key) const {
  return inner_->query(key);
}

boost::json::value forwarding_model::snapshot() const {
  return inner_->snapshot();
}

void forwarding_model::reset() {
  inner_->reset();
}

bool forwarding_model::restore(const boost::json::value& state) {
  return inner_->restore(state);
}

void forwarding_model::expect_rows(std::size_t rows) {
  inner_->expect_rows(rows);
}

bool forwarding_model::restore_row(std::string_view key,
                                   const boost::json::value& value) {
  return inner_->restore_row(key, value);
}

std::string forwarding_model::definition() const {
  return inner_->definition();
}

bool forwarding_model::track_changes() {
  return inner_->track_changes();
}

void forwarding_model::take_changes(std::vector<std::string>& out) {
  inner_->take_changes(out);
}

bool forwarding_model::write_value(std::string_view key, std::string& out) const {
  return inner_->write_value(key, out);
}

bool forwarding_model::holds(std::string_view key) const {
  return inner_->holds(key);
}

bool forwarding_model::key_local() const noexcept {
  return inner_->key_local();
}

std::optional<std::string> forwarding_model::key_of(const event& e) const {
  return inner_->key_of(e);
}

} // namespace bus
