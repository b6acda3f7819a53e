#pragma once

// Snapshots of read models, in SQLite or in PostgreSQL: per model, its state, the
// checkpoint it was taken at, the seqs processed above the checkpoint, the model's
// definition and its parked events, written in one transaction, so that a
// state, its checkpoint and its dead-letter store can never disagree after
// a crash.
//
// A state is kept in one of two layouts (snapshot_layout):
// - whole: the model's snapshot() as one JSON document, rewritten each time
//   (models that do not track their changes);
// - rows: the lines of snapshot_rows.hpp, one per changed key. A base holds
//   every row; each later snapshot appends only the rows changed since the
//   one before (a delta), so it costs what changed. Once the appended rows
//   outgrow twice the base (and 64 KiB), compact() folds them into a new
//   base, so the rows read on restore stay within three times the state.
//
// Ownership: a projector claims its model before it restores (claim()),
// which bumps the model's generation; every write names the generation it
// was made under and is refused (save_outcome::superseded) once a newer
// claim exists. So a projector that was replaced, or a writer still busy
// after its projector died, never writes over its successor's snapshots:
// deltas always follow the base they were taken against.
//
// Schema (readable with the sqlite3 shell; in PostgreSQL, beside the log,
// the same tables prefixed bus_, with bigint and text columns):
//   snapshots (model TEXT PRIMARY KEY, checkpoint INTEGER, above TEXT,
//              definition TEXT, state TEXT, parked TEXT, layout TEXT)
//   snapshot_rows (model TEXT, part INTEGER, bytes INTEGER, rows TEXT,
//                  PRIMARY KEY (model, part))   -- part 0: the base; rows
//                  a blob in SQLite when it holds record rows
//                  (snapshot_rows.hpp), always JSON lines in PostgreSQL
//   snapshot_owners (model TEXT PRIMARY KEY, generation INTEGER)
// where parked is a JSON array of parked_event (parked_event.hpp); layout is
// "whole" (state holds the document) or "rows" (state is '', the rows are in
// snapshot_rows). A file written before parking or rows existed gets the
// missing columns on opening ('' parked, "whole" layout).
//
// A parked event that a later snapshot leaves out comes back from the log:
// the events after the checkpoint are applied again and park again. A retry
// or a discard, though, changes the parked set and the state without any
// new event, so the projector saves a snapshot right after one; a crash
// before it undoes the retry or discard, never half of it.
//
// Not thread-safe: one connection, used by one actor (each projector and
// each snapshot writer opens its own on the shared file or database, and
// they write in turn).

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "bus/parked_event.hpp"

namespace bus {

/// How a snapshot keeps a model's state.
enum class snapshot_layout : std::uint8_t {
  /// The model's snapshot() as one JSON document.
  whole,
  /// Rows (snapshot_rows.hpp): a base and the deltas after it.
  rows,
};

/// Returns "whole" or "rows".
const char* to_string(snapshot_layout x) noexcept;

/// One stored snapshot.
struct snapshot {
  std::uint64_t checkpoint = 0;
  /// Seqs processed above the checkpoint (out of order); usually none.
  std::vector<std::uint64_t> above;
  /// read_model::definition() when it was taken.
  std::string definition;
  /// whole: read_model::snapshot(), serialized. rows: the rows, the base's
  /// first and each delta's after it, in order (rows_state() reads them).
  std::string state;
  /// The model's parked events at the checkpoint, in seq order.
  std::vector<parked_event> parked{};
  snapshot_layout layout = snapshot_layout::whole;
};

/// How a rows snapshot joins what is stored.
enum class rows_write : std::uint8_t {
  /// Every row: replaces whatever the model had stored.
  base,
  /// The rows changed since the model's last rows snapshot: appended.
  delta,
};

/// What became of a write.
enum class save_outcome : std::uint8_t {
  /// Committed.
  saved,
  /// Refused: the model was claimed under a newer generation.
  superseded,
  /// Given up before anything was written: the caller no longer wanted it
  /// (a compaction whose projector stops).
  cancelled,
};

/// A model claimed by a projector: its new generation and what it had
/// stored.
struct snapshot_claim {
  std::uint64_t generation = 0;
  std::optional<snapshot> stored;
};

class snapshot_store {
public:
  /// Opens (or creates) the snapshot tables at `location`: in the
  /// PostgreSQL database of a postgresql:// or postgres:// URI (tables
  /// bus_snapshots, bus_snapshot_rows, bus_snapshot_owners; an error in a
  /// build without PostgreSQL), else in the SQLite file at that path,
  /// adding the columns a file written by an earlier release lacks.
  static caf::expected<std::unique_ptr<snapshot_store>>
  open(const std::string& location);

  ~snapshot_store();

  snapshot_store(const snapshot_store&) = delete;
  snapshot_store& operator=(const snapshot_store&) = delete;

  /// Bumps the generation of `model` and returns it with the model's
  /// snapshot, in one transaction: writes of earlier generations are
  /// refused from here on, and none lands between the load and the claim.
  caf::expected<snapshot_claim> claim(const std::string& model);

  /// Returns the snapshot of `model`, if there is one, without claiming it.
  /// Parked events that do not decode are a storage error: dropping them
  /// would lose them.
  caf::expected<std::optional<snapshot>> load(const std::string& model);

  /// Writes the snapshot `x` of `model` under `generation` (durably: fsync
  /// at commit). A whole snapshot, or a rows base, replaces what the model
  /// had; a rows delta (x.state: the changed rows, possibly none) is
  /// appended to the model's rows, and requires the stored snapshot to be
  /// a rows one.
  caf::expected<save_outcome> save(const std::string& model, const snapshot& x,
                                   std::uint64_t generation,
                                   rows_write how = rows_write::base);

  /// Returns true when the deltas of `model` outgrew its base (see above).
  caf::expected<bool> compaction_due(const std::string& model);

  /// Returns the bytes of the stored base rows of `model` (0 without).
  caf::expected<std::uint64_t> base_bytes(const std::string& model);

  /// Folds the base and deltas of `model` into a new base, in one
  /// transaction; the snapshot it describes does not change. Once
  /// `cancelled` (if given) is set, by any thread, it gives up before it
  /// writes anything (save_outcome::cancelled): a compaction is upkeep,
  /// which a shutdown need not wait for.
  caf::expected<save_outcome> compact(const std::string& model,
                                      std::uint64_t generation,
                                      const std::atomic<bool>* cancelled = nullptr);

  /// The storage behind a store (src/internal/snapshot_backend.hpp).
  class backend;

private:
  explicit snapshot_store(std::unique_ptr<backend> impl);

  std::unique_ptr<backend> backend_;
};

} // namespace bus
