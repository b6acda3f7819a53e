#pragma once

// The operator's lasting choices about read models, kept so that they
// survive restarts of a projector and of the node: which models are paused.
// A pause is an operator's decision, not state a projector can rebuild from
// the log, so it lives beside the snapshots, not in them: in a SQLite file,
// or in the PostgreSQL database of a postgresql:// location (the log's, so
// that a standby taking the lead keeps the leader's pauses).
//
// Schema: paused_models (model TEXT PRIMARY KEY, paused_at INTEGER,
// frozen_at INTEGER) in SQLite, bus_paused_models (model text PRIMARY KEY,
// paused_at bigint, frozen_at bigint) on PostgreSQL (paused_at:
// milliseconds since the epoch; frozen_at: the checkpoint of the state the
// model answered queries from when paused, NULL if it answered none).
// Stores made before frozen_at get the column when opened.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

namespace bus {

/// A paused model, and where its frozen state is.
struct paused_model {
  std::string name;
  /// The checkpoint of the state it answered queries from when paused
  /// (none: it answered none, or it was paused before this was kept).
  std::optional<std::uint64_t> frozen_at;
};

class lifecycle_store {
public:
  /// The storage behind the store (internal/lifecycle_backend.hpp).
  class backend;

  /// Opens (or creates) the table in the SQLite file at `location`, or in
  /// the database of a PostgreSQL URI.
  static caf::expected<std::unique_ptr<lifecycle_store>>
  open(const std::string& location);

  ~lifecycle_store();

  lifecycle_store(const lifecycle_store&) = delete;
  lifecycle_store& operator=(const lifecycle_store&) = delete;

  /// The paused models, by name.
  caf::expected<std::vector<std::string>> paused() const;

  /// The paused models, by name, and where their frozen states are.
  caf::expected<std::vector<paused_model>> pauses() const;

  /// Records `model` as paused (durably), or as no longer paused.
  /// Records `model` as paused (durably), or as no longer paused. Paused,
  /// `frozen_at` is the checkpoint of the state it answers queries from.
  caf::error set_paused(const std::string& model, bool paused,
                        std::optional<std::uint64_t> frozen_at = std::nullopt);

private:
  explicit lifecycle_store(std::unique_ptr<backend> impl);

  std::unique_ptr<backend> backend_;
};

} // namespace bus
