#pragma once

// A read model persisted to a table: its rows in a table of its own, and
// its projector's checkpoint and processed ids in a shared checkpoints
// table of the same database. commit() writes the rows changed since the
// last commit and the checkpoint in one transaction (a projector commits
// once for the pushes that queued up, before it acknowledges them), so
// after a crash the rows are exactly those of the events the checkpoint
// covers: never an event applied that the checkpoint does not cover, nor
// the reverse.
//
// The model's parked events (its dead-letter store, parking_lot.hpp) live
// in a shared parked table and are committed in the same transaction, so
// after a crash an event is parked exactly when the checkpoint covers it
// and the rows do not hold it: never lost, never parked twice.
//
// The database is a SQLite file (the "models database" beside a SQLite
// log) or, given a postgresql:// URI, the PostgreSQL database of the log.
// SQLite schema (readable with the sqlite3 shell):
//   checkpoints (model TEXT PRIMARY KEY, definition TEXT, checkpoint INTEGER,
//                above TEXT, table_name TEXT)
//   "model_<name>" (key TEXT PRIMARY KEY, value TEXT)  -- value: the JSON a
//                                                         query of key answers
//   parked (model TEXT, seq INTEGER, entry TEXT,        -- entry: a parked_event
//           PRIMARY KEY (model, seq))                      as JSON
// A database written before parking existed gets the `parked` table on
// opening. PostgreSQL schema, beside the log's tables:
//   bus_model_checkpoints (model text PRIMARY KEY, definition text,
//                          checkpoint bigint, above text, table_name text,
//                          generation bigint)
//   "bus_model_<name>" (key text PRIMARY KEY, value text)
//   bus_parked (model text, seq bigint, entry text, PRIMARY KEY (model, seq))
// A name too long for a PostgreSQL identifier (63 bytes) gets the table
// "bus_model_<hash of the name>"; table_name records which.
//
// On PostgreSQL, opening a model's table makes the opener its owner (the
// generation counts openers): a projector on another node that opened it
// before has its commits refused (errc::storage_failed), so two nodes never
// both write one model during a failover. A SQLite file is one node's.
//
// Each projector opens its own model_table (one connection) on the shared
// database; SQLite's WAL mode lets them commit in turn. Not thread-safe:
// one actor uses it.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <caf/expected.hpp>

#include "bus/parked_event.hpp"
#include "bus/read_model.hpp"

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
  /// The storage behind it (SQLite or PostgreSQL), internal.
  class backend;

  /// Opens (or creates) the models database at `location`, a SQLite file
  /// (":memory:" for a private one) or a postgresql:// URI, and the table
  /// of `model`. A table written under another `definition` is emptied,
  /// its parked events dropped and its checkpoint reset, in one
  /// transaction.
  static caf::expected<std::unique_ptr<model_table>>
  open(const std::string& location, const std::string& model,
       const std::string& definition);

  ~model_table();

  model_table(const model_table&) = delete;
  model_table& operator=(const model_table&) = delete;

  /// Returns the name of the model's table ("model_<name>" in SQLite).
  const std::string& table_name() const noexcept;

  /// Reads the checkpoint, the processed seqs above it, every row and the
  /// parked events. Parked events that do not decode are a storage error:
  /// dropping them would lose them.
  caf::expected<table_contents> load();

  /// Takes the rows of a load one at a time: a key and the value a query
  /// of it answered. Returns false to stop taking them.
  using row_sink = std::function<bool(std::string_view key, boost::json::value& value)>;

  /// As load(), but hands each row to `sink` as it is read instead of
  /// keeping it in the contents' rows (which stay empty), so that a model
  /// restores without the table held as one object beside it. Once `sink`
  /// returns false it gets no more rows.
  caf::expected<table_contents> load(const row_sink& sink);

  /// Commits, in one transaction, the rows of the keys `model` changed
  /// since the last commit (taken with take_changes(): a key it answers is
  /// written, a key it no longer has is deleted), the checkpoint and the
  /// seqs processed above it, and, given `parked` (which must
  /// track_changes()), the entries it parked or removed since the last
  /// commit; nothing of the parked table when none changed. A retry or
  /// discard commits with the same checkpoint. On failure nothing of it is
  /// written and the table keeps its previous, consistent state; the model
  /// and the lot are then ahead of it, and a replacement reloads the table.
  /// Refused when another opener took the model over (PostgreSQL).
  caf::error commit(read_model& model, std::uint64_t checkpoint,
                    const std::vector<std::uint64_t>& above,
                    parking_lot* parked = nullptr);

  /// Deletes every row and parked event and resets the checkpoint to 0, in
  /// one transaction (a rebuild, which parks again whatever still fails).
  caf::error clear();

  /// Replaces the table with the whole state of `model` (every key of its
  /// snapshot(), which must track_changes()), the checkpoint, the seqs
  /// processed above it and every entry of `parked` (which must
  /// track_changes()), and forgets their changes so far: a projector taking
  /// the model over (blue/green). Two transactions: a crash between them
  /// leaves the table empty at checkpoint 0, and the model is rebuilt.
  caf::error replace(read_model& model, std::uint64_t checkpoint,
                     const std::vector<std::uint64_t>& above, parking_lot& parked);

  /// Returns the number of rows commit() has written or deleted.
  std::uint64_t rows_written() const noexcept { return rows_written_; }

private:
  explicit model_table(std::unique_ptr<backend> impl);

  std::unique_ptr<backend> backend_;
  // Reused across commits: the keys changed in one batch.
  std::vector<std::string> changed_;
  // Reused across commits: the seqs parked or unparked in one batch.
  std::vector<std::uint64_t> changed_parked_;
  // Reused across commits: the values written, one after the other, and
  // where each ends (a key the model no longer holds: SIZE_MAX).
  std::string values_;
  std::vector<std::size_t> value_ends_;
  std::uint64_t rows_written_ = 0;
};

} // namespace bus
