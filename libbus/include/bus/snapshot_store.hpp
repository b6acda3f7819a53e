#pragma once

// Snapshots of read models in SQLite: per model, its state, the checkpoint
// it was taken at, the seqs processed above the checkpoint, the model's
// definition and its parked events, written as one row in one transaction,
// so that a state, its checkpoint and its dead-letter store can never
// disagree after a crash. Each projector opens its own store on the shared
// file (WAL mode lets them write in turn).
//
// Schema: snapshots (model TEXT PRIMARY KEY, checkpoint INTEGER, above TEXT,
//                    definition TEXT, state TEXT, parked TEXT)
// where parked is a JSON array of parked_event (parked_event.hpp); a file
// written before parking existed gets the column ('': none) on opening.
//
// A parked event that a later snapshot leaves out comes back from the log:
// the events after the checkpoint are applied again and park again. A retry
// or a discard, though, changes the parked set and the state without any
// new event, so the projector saves a snapshot right after one; a crash
// before it undoes the retry or discard, never half of it.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "bus/parked_event.hpp"

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
  /// The model's parked events at the checkpoint, in seq order.
  std::vector<parked_event> parked{};
};

class snapshot_store {
public:
  /// Opens (or creates) the snapshot table in the SQLite file at `path`,
  /// adding the `parked` column to a table written without it.
  static caf::expected<std::unique_ptr<snapshot_store>> open(const std::string& path);

  ~snapshot_store();

  snapshot_store(const snapshot_store&) = delete;
  snapshot_store& operator=(const snapshot_store&) = delete;

  /// Replaces the snapshot of `model` (durably: fsync at commit).
  caf::error save(const std::string& model, const snapshot& x);

  /// Returns the snapshot of `model`, if there is one. Parked events that
  /// do not decode are a storage error: dropping them would lose them.
  caf::expected<std::optional<snapshot>> load(const std::string& model);

private:
  snapshot_store() = default;

  sqlite3* db_ = nullptr;
};

} // namespace bus
