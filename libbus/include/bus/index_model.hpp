#pragma once

// A declarative read model: a secondary index from one payload field (say an
// email) to the primary key (say a user id). Setting events map the current
// value to the key and drop the key's previous value; deleting events drop
// the key's entry.

#include <memory>
#include <string>
#include <vector>

#include "bus/json_path.hpp"
#include "bus/read_model.hpp"

namespace bus {

/// Settings of an index_model.
struct index_model_config {
  std::string name;
  /// Payload field indexed, e.g. "email".
  std::string key;
  /// Payload field holding the primary key it maps to, e.g. "id".
  std::string target;
  std::vector<std::string> set_on;
  std::vector<std::string> delete_on;
};

/// A secondary-field -> primary-key projection.
class index_model final : public read_model {
public:
  explicit index_model(index_model_config cfg);
  ~index_model() override;

  const std::string& name() const noexcept override { return cfg_.name; }
  const std::vector<std::string>& event_types() const noexcept override {
    return types_;
  }
  bool apply(const event& e) override;
  /// Returns the primary key of `e` (its `target` field): the entity whose
  /// indexed value the event sets or drops. Two events of one entity must
  /// keep their order (set a, then set b, leaves b); see the .cpp for what
  /// per-target order does not cover.
  std::optional<std::string> key_of(const event& e) const override;
  std::optional<boost::json::value> query(std::string_view key) const override;
  bool write_value(std::string_view key, std::string& out) const override;
  /// row_form::record: the model holds its values in that form.
  row_form snapshot_row_form() const noexcept override;
  bool write_record(std::string_view key, std::string& out) const override;
  bool restore_record(std::string_view key, std::string_view value) override;
  bool holds(std::string_view key) const override;
  boost::json::value snapshot() const override;
  bool restore(const boost::json::value& state) override;
  void expect_rows(std::size_t rows) override;
  bool restore_row(std::string_view key, const boost::json::value& value) override;
  std::string definition() const override;
  void reset() override;
  bool track_changes() override;
  void take_changes(std::vector<std::string>& out) override;

private:
  void drop(std::string_view primary);

  index_model_config cfg_;
  json_path key_path_;
  json_path target_path_;
  std::vector<std::string> types_;
  std::vector<std::pair<std::string, bool>> is_delete_;
  // value -> primary and primary -> value, in maps of the library's internals.
  struct tables;
  std::unique_ptr<tables> tables_;
  // Indexed values changed since take_changes(), when tracking (tables).
  bool tracking_ = false;
  std::vector<std::string> changed_;
};

} // namespace bus
