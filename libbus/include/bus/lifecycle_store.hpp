#pragma once

// The operator's lasting choices about read models, kept in SQLite so that
// they survive restarts of a projector and of the node: which models are
// paused. A pause is an operator's decision, not state a projector can
// rebuild from the log, so it lives beside the snapshots, not in them.
//
// Schema: paused_models (model TEXT PRIMARY KEY, paused_at INTEGER)
// (paused_at: milliseconds since the epoch).

#include <memory>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

struct sqlite3;

namespace bus {

class lifecycle_store {
public:
  /// Opens (or creates) the table in the SQLite file at `path`.
  static caf::expected<std::unique_ptr<lifecycle_store>> open(const std::string& path);

  ~lifecycle_store();

  lifecycle_store(const lifecycle_store&) = delete;
  lifecycle_store& operator=(const lifecycle_store&) = delete;

  /// The paused models, by name.
  caf::expected<std::vector<std::string>> paused() const;

  /// Records `model` as paused (durably), or as no longer paused.
  caf::error set_paused(const std::string& model, bool paused);

private:
  lifecycle_store() = default;

  sqlite3* db_ = nullptr;
};

} // namespace bus
