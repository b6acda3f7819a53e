#pragma once

// A declarative read model: one JSON document per key, the key taken from a
// payload field. Some event types replace the document (upsert), some merge
// their payload's fields into it, some delete it.

#include <memory>
#include <string>
#include <vector>

#include "bus/json_path.hpp"
#include "bus/read_model.hpp"

namespace bus {

/// Settings of a document_model.
struct document_model_config {
  std::string name;
  /// Payload field holding the document key, e.g. "id" or "user.id".
  std::string key;
  std::vector<std::string> upsert_on;
  std::vector<std::string> merge_on;
  std::vector<std::string> delete_on;
  /// Payload fields (dotted paths) every upsert and merge must carry: an
  /// event without one throws, so that the model's recovery policy parks
  /// it instead of folding an incomplete document.
  std::vector<std::string> require;
};

/// A key -> JSON document projection.
class document_model final : public read_model {
public:
  explicit document_model(document_model_config cfg);
  ~document_model() override;

  const std::string& name() const noexcept override { return cfg_.name; }
  const std::vector<std::string>& event_types() const noexcept override {
    return types_;
  }
  bool apply(const event& e) override;
  /// Returns the document key of `e` (the `key` field of its payload).
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
  /// True: a document's key is its events' key.
  bool key_local() const noexcept override { return true; }
  void take_changes(std::vector<std::string>& out) override;

private:
  enum class action { upsert, merge, remove };
  // The documents by key, in a map of the library's internals.
  struct documents;

  document_model_config cfg_;
  json_path key_path_;
  std::vector<json_path> required_;
  std::vector<std::string> types_;
  std::vector<std::pair<std::string, action>> actions_;
  std::unique_ptr<documents> docs_;
  // Keys changed since take_changes(), when tracking (tables).
  bool tracking_ = false;
  std::vector<std::string> changed_;
};

} // namespace bus
