// The SQLite backend of model_table: the models database of a SQLite log
// (model_table.hpp has the schema and the semantics).

#include <mutex>

#include <boost/json/parse.hpp>
#include <boost/json/parser.hpp>
#include <sqlite3.h>

#include "bus/errc.hpp"
#include "internal/model_table_backend.hpp"
#include "internal/seq_list.hpp"
#include "internal/sqlite_statement.hpp"
#include "internal/write_turns.hpp"

namespace bus::internal {

namespace {

using sqlite::bind_text;
using sqlite::column_text;
using sqlite::column_view;
using sqlite::statement;
using sqlite::transaction;

class sqlite_model_table final : public model_table::backend {
public:
  sqlite_model_table(const std::string& model)
    : model_(model), table_("model_" + model) {
    // nop
  }

  ~sqlite_model_table() override {
    sqlite3_finalize(upsert_);
    sqlite3_finalize(erase_);
    sqlite3_finalize(checkpoint_);
    sqlite3_finalize(park_);
    sqlite3_finalize(unpark_);
    sqlite3_close_v2(db_);
  }

  caf::error open(const std::string& path, const std::string& definition);

  const std::string& table_name() const noexcept override { return table_; }

  caf::expected<table_contents> load(const model_table::row_sink* sink) override;

  caf::error commit(const std::vector<row_write>& rows,
                    const std::vector<parked_write>& parked, std::uint64_t checkpoint,
                    const std::vector<std::uint64_t>& above) override;

  caf::error clear() override;

private:
  caf::error failure(const std::string& what) {
    return make_error(errc::storage_failed,
                      "models table of '" + model_ + "': " + what + ": "
                        + (db_ ? sqlite3_errmsg(db_) : "no database"));
  }

  caf::error exec(const std::string& sql) {
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK)
      return failure(sql);
    return caf::none;
  }

  caf::error prepare(sqlite3_stmt*& stmt, const std::string& sql) {
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK)
      return failure(sql);
    return caf::none;
  }

  caf::error write_checkpoint(std::uint64_t checkpoint,
                              const std::vector<std::uint64_t>& above);
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
};

caf::error sqlite_model_table::open(const std::string& path,
                                    const std::string& definition) {
  if (sqlite3_open_v2(path.c_str(), &db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr)
      != SQLITE_OK)
    return failure(path + ": cannot open");
  // Projectors share the file and commit in turn: wait for each other.
  sqlite3_busy_timeout(db_, 10000);
  // The projectors of a node open the file together when it starts. Making
  // a new file a WAL file takes an exclusive lock that SQLite gives up on
  // without waiting when another connection waits for it too (16 models:
  // one failed with "database is locked" now and then), so this process's
  // connections set the file up in turn. Commits need no turns: the busy
  // handler serves them, and a worker waiting on a mutex was slower.
  auto turn = write_turn_for(path);
  std::lock_guard<std::mutex> my_turn{*turn};
  // synchronous=NORMAL: in WAL mode a commit survives a crash of the
  // process, and one lost to a power cut loses rows and checkpoint
  // together, so the projector pulls those events from the log again.
  // Large pages: a batch's keys are spread over the whole table, so a commit
  // rewrites most of its pages; fewer, larger writes cost fewer system calls
  // (measured about 2x faster commits than 4 KiB pages here). A checkpoint
  // every 256 pages keeps the WAL near 16 MiB.
  for (auto* sql : {"PRAGMA page_size=65536", "PRAGMA journal_mode=WAL",
                    "PRAGMA wal_autocheckpoint=256", "PRAGMA synchronous=NORMAL",
                    "CREATE TABLE IF NOT EXISTS checkpoints (model TEXT PRIMARY KEY, "
                    "definition TEXT NOT NULL, checkpoint INTEGER NOT NULL, "
                    "above TEXT NOT NULL, table_name TEXT NOT NULL)",
                    // Also what migrates a database written before parking.
                    "CREATE TABLE IF NOT EXISTS parked (model TEXT NOT NULL, "
                    "seq INTEGER NOT NULL, entry TEXT NOT NULL, "
                    "PRIMARY KEY (model, seq)) WITHOUT ROWID"})
    if (auto err = exec(sql))
      return err;
  auto table = quoted(table_);
  if (auto err = exec("BEGIN IMMEDIATE"))
    return err;
  transaction txn{db_};
  if (auto err = exec("CREATE TABLE IF NOT EXISTS " + table
                      + " (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID"))
    return err;
  statement find;
  if (auto err = prepare(find.stmt,
                         "SELECT definition FROM checkpoints WHERE model = ?"))
    return err;
  bind_text(find.stmt, 1, model_);
  auto rc = sqlite3_step(find.stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return failure("reading its checkpoint");
  auto known = rc == SQLITE_ROW;
  if (known && column_view(find.stmt, 0) != definition) {
    // Rows folded under another definition mean nothing under this one.
    if (auto err = exec("DELETE FROM " + table))
      return err;
    // Events parked under it are replayed and park again if they fail.
    if (auto err = drop_parked())
      return err;
    definition_changed_ = true;
  }
  if (!known || definition_changed_) {
    statement put;
    if (auto err = prepare(put.stmt,
                           "INSERT OR REPLACE INTO checkpoints (model, definition, "
                           "checkpoint, above, table_name) VALUES (?, ?, 0, '', ?)"))
      return err;
    bind_text(put.stmt, 1, model_);
    bind_text(put.stmt, 2, definition);
    bind_text(put.stmt, 3, table_);
    if (sqlite3_step(put.stmt) != SQLITE_DONE)
      return failure("writing its checkpoint");
  }
  if (auto err = exec("COMMIT"))
    return err;
  txn.done = true;
  if (auto err = prepare(upsert_, "INSERT OR REPLACE INTO " + table
                                    + " (key, value) VALUES (?, ?)"))
    return err;
  if (auto err = prepare(erase_, "DELETE FROM " + table + " WHERE key = ?"))
    return err;
  if (auto err = prepare(checkpoint_,
                         "UPDATE checkpoints SET checkpoint = ?, above = ? "
                         "WHERE model = ?"))
    return err;
  if (auto err = prepare(park_, "INSERT OR REPLACE INTO parked (model, seq, "
                                "entry) VALUES (?, ?, ?)"))
    return err;
  return prepare(unpark_, "DELETE FROM parked WHERE model = ? AND seq = ?");
}

caf::expected<table_contents>
sqlite_model_table::load(const model_table::row_sink* sink) {
  table_contents result;
  result.definition_changed = definition_changed_;
  // One read transaction: the rows and the checkpoint of the same commit.
  if (auto err = exec("BEGIN"))
    return err;
  transaction txn{db_};
  statement cp;
  if (auto err = prepare(cp.stmt,
                         "SELECT checkpoint, above FROM checkpoints WHERE model = ?"))
    return err;
  bind_text(cp.stmt, 1, model_);
  if (sqlite3_step(cp.stmt) != SQLITE_ROW)
    return failure("reading its checkpoint");
  result.checkpoint = static_cast<std::uint64_t>(sqlite3_column_int64(cp.stmt, 0));
  result.above = split_seqs(column_text(cp.stmt, 1));
  statement rows;
  if (auto err = prepare(rows.stmt, "SELECT key, value FROM " + quoted(table_)))
    return err;
  int rc;
  // One parser for every row: constructing one per row costs more than the
  // parse of a small document.
  boost::json::parser parser;
  bool taking = true; // the sink takes rows
  while (taking && (rc = sqlite3_step(rows.stmt)) == SQLITE_ROW) {
    auto text = column_view(rows.stmt, 1);
    boost::system::error_code ec;
    parser.reset();
    parser.write(text.data(), text.size(), ec); // the whole value
    if (ec)
      return make_error(errc::storage_failed,
                        "models table of '" + model_ + "': the value of key '"
                          + column_text(rows.stmt, 0) + "' is not JSON");
    taking = take_row(sink, result.rows, column_view(rows.stmt, 0), parser);
  }
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) // ROW: the sink stopped
    return failure("reading its rows");
  statement parked;
  if (auto err = prepare(parked.stmt,
                         "SELECT seq, entry FROM parked WHERE model = ? ORDER BY seq"))
    return err;
  bind_text(parked.stmt, 1, model_);
  while ((rc = sqlite3_step(parked.stmt)) == SQLITE_ROW) {
    boost::system::error_code ec;
    auto entry = boost::json::parse(column_view(parked.stmt, 1), ec);
    auto x = ec ? caf::expected<parked_event>{make_error(errc::invalid_event,
                                                         "not JSON")}
                : parked_event_from_json(entry);
    if (!x)
      return make_error(errc::storage_failed,
                        "models table of '" + model_ + "': parked event "
                          + column_text(parked.stmt, 0)
                          + " does not decode: " + context_of(x.error()));
    result.parked.push_back(std::move(*x));
  }
  if (rc != SQLITE_DONE)
    return failure("reading its parked events");
  return result;
}

caf::error
sqlite_model_table::write_checkpoint(std::uint64_t checkpoint,
                                     const std::vector<std::uint64_t>& above) {
  auto text = join_seqs(above);
  sqlite3_reset(checkpoint_);
  sqlite3_bind_int64(checkpoint_, 1, static_cast<sqlite3_int64>(checkpoint));
  bind_text(checkpoint_, 2, text);
  bind_text(checkpoint_, 3, model_);
  if (sqlite3_step(checkpoint_) != SQLITE_DONE)
    return failure("writing its checkpoint");
  return caf::none;
}

caf::error sqlite_model_table::drop_parked() {
  statement drop;
  if (auto err = prepare(drop.stmt, "DELETE FROM parked WHERE model = ?"))
    return err;
  bind_text(drop.stmt, 1, model_);
  if (sqlite3_step(drop.stmt) != SQLITE_DONE)
    return failure("dropping its parked events");
  return caf::none;
}

caf::error sqlite_model_table::commit(const std::vector<row_write>& rows,
                                      const std::vector<parked_write>& parked,
                                      std::uint64_t checkpoint,
                                      const std::vector<std::uint64_t>& above) {
  if (auto err = exec("BEGIN IMMEDIATE"))
    return err;
  transaction txn{db_};
  // One statement per row: SQLite runs in the process, a statement costs no
  // round trip.
  for (auto& row : rows) {
    auto* stmt = row.value ? upsert_ : erase_;
    sqlite3_reset(stmt);
    bind_text(stmt, 1, row.key);
    if (row.value)
      bind_text(stmt, 2, *row.value);
    if (sqlite3_step(stmt) != SQLITE_DONE)
      return failure("writing key '" + std::string{row.key} + "'");
  }
  for (auto& x : parked) {
    auto* stmt = x.entry ? park_ : unpark_;
    sqlite3_reset(stmt);
    bind_text(stmt, 1, model_);
    sqlite3_bind_int64(stmt, 2, static_cast<sqlite3_int64>(x.seq));
    if (x.entry)
      bind_text(stmt, 3, *x.entry);
    if (sqlite3_step(stmt) != SQLITE_DONE)
      return failure("writing parked event " + std::to_string(x.seq));
  }
  if (auto err = write_checkpoint(checkpoint, above))
    return err;
  if (auto err = exec("COMMIT"))
    return err;
  txn.done = true;
  return caf::none;
}

caf::error sqlite_model_table::clear() {
  if (auto err = exec("BEGIN IMMEDIATE"))
    return err;
  transaction txn{db_};
  if (auto err = exec("DELETE FROM " + quoted(table_)))
    return err;
  if (auto err = drop_parked())
    return err;
  if (auto err = write_checkpoint(0, {}))
    return err;
  if (auto err = exec("COMMIT"))
    return err;
  txn.done = true;
  return caf::none;
}

} // namespace

caf::expected<std::unique_ptr<model_table::backend>>
open_sqlite_model_table(const std::string& path, const std::string& model,
                        const std::string& definition) {
  auto table = std::make_unique<sqlite_model_table>(model);
  if (auto err = table->open(path, definition))
    return err;
  return std::unique_ptr<model_table::backend>{std::move(table)};
}

} // namespace bus::internal
