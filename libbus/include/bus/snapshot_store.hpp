#pragma once

// Snapshots of read models in SQLite: per model, its state, the checkpoint
// it was taken at, the seqs processed above the checkpoint and the model's
// definition, written as one row in one transaction, so that a state and
// its checkpoint can never disagree after a crash. Each projector opens its
// own store on the shared file (WAL mode lets them write in turn).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>

struct sqlite3;

namespace bus {

/// One stored snapshot.
struct snapshot {
  std::uint64_t checkpoint = 0;
  /// Seqs processed above the checkpoint (out of order); usually none.
  std::vector<std::uint64_t> above;
  /// read_model::definition() when it was taken.
  std::string definition;
  /// read_model::snapshot(), serialized.
  std::string state;
};

class snapshot_store {
public:
  /// Opens (or creates) the snapshot table in the SQLite file at `path`.
  static caf::expected<std::unique_ptr<snapshot_store>> open(const std::string& path);

  ~snapshot_store();

  snapshot_store(const snapshot_store&) = delete;
  snapshot_store& operator=(const snapshot_store&) = delete;

  /// Replaces the snapshot of `model` (durably: fsync at commit).
  caf::error save(const std::string& model, const snapshot& x);

  /// Returns the snapshot of `model`, if there is one.
  caf::expected<std::optional<snapshot>> load(const std::string& model);

private:
  snapshot_store() = default;

  sqlite3* db_ = nullptr;
};

} // namespace bus
