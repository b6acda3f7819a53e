#pragma once

// A read model persisted to SQLite: its rows in a table of its own, and its
// projector's checkpoint and processed ids in the shared `checkpoints`
// table of the same models database. commit() writes a batch's changed rows
// and the checkpoint in one transaction, so after a crash the rows are
// exactly those of the events the checkpoint covers: never an event applied
// that the checkpoint does not cover, nor the reverse.
//
// The model's parked events (its dead-letter store, parking_lot.hpp) live
// in the shared `parked` table and are committed in the same transaction,
// so after a crash an event is parked exactly when the checkpoint covers it
// and the rows do not hold it: never lost, never parked twice.
//
// Schema (readable with the sqlite3 shell):
//   checkpoints (model TEXT PRIMARY KEY, definition TEXT, checkpoint INTEGER,
//                above TEXT, table_name TEXT)
//   "model_<name>" (key TEXT PRIMARY KEY, value TEXT)  -- value: the JSON a
//                                                         query of key answers
//   parked (model TEXT, seq INTEGER, entry TEXT,        -- entry: a parked_event
//           PRIMARY KEY (model, seq))                      as JSON
// A database written before parking existed gets the `parked` table on
// opening.
//
// Each projector opens its own model_table (one connection) on the shared
// file; WAL mode lets them commit in turn. Not thread-safe: one actor uses it.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/json/object.hpp>
#include <caf/expected.hpp>

#include "bus/parked_event.hpp"
#include "bus/read_model.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace bus {

/// What a model's table held when it was opened.
struct table_contents {
  /// Every seq up to this one is processed.
  std::uint64_t checkpoint = 0;
  /// Seqs processed above the checkpoint (out of order); usually none.
  std::vector<std::uint64_t> above;
  /// key -> value, as the model's query() answered when it was committed.
  boost::json::object rows;
  /// True when the table was emptied on opening because the model's
  /// definition changed (the model is rebuilt from the log).
  bool definition_changed = false;
  /// The model's parked events, in seq order (for parking_lot::restore).
  std::vector<parked_event> parked;
};

class parking_lot;

/// One read model's table and checkpoint in a models database.
class model_table {
public:
  /// Opens (or creates) the models database at `path` (":memory:" for a
  /// private one) and the table of `model`. A table written under another
  /// `definition` is emptied, its parked events dropped and its checkpoint
  /// reset, in one transaction.
  static caf::expected<std::unique_ptr<model_table>>
  open(const std::string& path, const std::string& model,
       const std::string& definition);

  ~model_table();

  model_table(const model_table&) = delete;
  model_table& operator=(const model_table&) = delete;

  /// Returns the name of the model's table ("model_<name>").
  const std::string& table_name() const noexcept { return table_; }

  /// Reads the checkpoint, the processed seqs above it, every row and the
  /// parked events. Parked events that do not decode are a storage error:
  /// dropping them would lose them.
  caf::expected<table_contents> load();

  /// Commits, in one transaction, the rows of the keys `model` changed
  /// since the last commit (taken with take_changes(): a key it answers is
  /// written, a key it no longer has is deleted), the checkpoint and the
  /// seqs processed above it, and, given `parked` (which must
  /// track_changes()), the entries it parked or removed since the last
  /// commit; nothing of the parked table when none changed. A retry or
  /// discard commits with the same checkpoint. On failure nothing of it is
  /// written and the table keeps its previous, consistent state; the model
  /// and the lot are then ahead of it, and a replacement reloads the table.
  caf::error commit(read_model& model, std::uint64_t checkpoint,
                    const std::vector<std::uint64_t>& above,
                    parking_lot* parked = nullptr);

  /// Deletes every row and parked event and resets the checkpoint to 0, in
  /// one transaction (a rebuild, which parks again whatever still fails).
  caf::error clear();

  /// Returns the number of rows commit() has written or deleted.
  std::uint64_t rows_written() const noexcept { return rows_written_; }

private:
  model_table() = default;

  caf::error exec(const char* sql);
  caf::error prepare(sqlite3_stmt*& stmt, const std::string& sql);
  caf::error failure(const std::string& what);
  caf::error write_checkpoint(std::uint64_t checkpoint,
                              const std::vector<std::uint64_t>& above);
  caf::error write_parked(parking_lot& parked);
  caf::error drop_parked();

  sqlite3* db_ = nullptr;
  std::string model_;
  std::string table_;
  bool definition_changed_ = false;
  sqlite3_stmt* upsert_ = nullptr;
  sqlite3_stmt* erase_ = nullptr;
  sqlite3_stmt* checkpoint_ = nullptr;
  sqlite3_stmt* park_ = nullptr;
  sqlite3_stmt* unpark_ = nullptr;
  // Reused across commits: the keys changed in one batch.
  std::vector<std::string> changed_;
  // Reused across commits: the seqs parked or unparked in one batch.
  std::vector<std::uint64_t> changed_parked_;
  std::uint64_t rows_written_ = 0;
};

} // namespace bus
