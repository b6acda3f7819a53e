#include "bus/model_table.hpp"

#include <algorithm>

#include <boost/json/parse.hpp>
#include <boost/json/parser.hpp>
#include <boost/json/serialize.hpp>
#include <sqlite3.h>

#include "bus/errc.hpp"
#include "bus/parking_lot.hpp"
#include "internal/seq_list.hpp"

namespace bus {

namespace {

// Quotes an SQL identifier: model names may hold any character.
std::string quoted(const std::string& name) {
  std::string out = "\"";
  for (auto c : name) {
    if (c == '"')
      out += '"';
    out += c;
  }
  return out + "\"";
}

std::string column_text(sqlite3_stmt* stmt, int i) {
  auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
  return {p ? p : "", static_cast<std::size_t>(sqlite3_column_bytes(stmt, i))};
}

void bind_text(sqlite3_stmt* stmt, int i, const std::string& x) {
  sqlite3_bind_text(stmt, i, x.data(), static_cast<int>(x.size()), SQLITE_STATIC);
}

// A prepared statement finalized at scope exit.
struct statement {
  sqlite3_stmt* stmt = nullptr;
  ~statement() { sqlite3_finalize(stmt); }
};

// Rolls an open transaction back at scope exit unless it was committed.
struct transaction {
  sqlite3* db;
  bool done = false;
  ~transaction() {
    if (!done)
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
  }
};

} // namespace

caf::error model_table::failure(const std::string& what) {
  return make_error(errc::storage_failed,
                    "models table of '" + model_ + "': " + what + ": "
                      + (db_ ? sqlite3_errmsg(db_) : "no database"));
}

caf::error model_table::exec(const char* sql) {
  if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK)
    return failure(sql);
  return caf::none;
}

caf::error model_table::prepare(sqlite3_stmt*& stmt, const std::string& sql) {
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK)
    return failure(sql);
  return caf::none;
}

caf::expected<std::unique_ptr<model_table>>
model_table::open(const std::string& path, const std::string& model,
                  const std::string& definition) {
  std::unique_ptr<model_table> t{new model_table};
  t->model_ = model;
  t->table_ = "model_" + model;
  if (sqlite3_open_v2(path.c_str(), &t->db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr)
      != SQLITE_OK)
    return t->failure(path + ": cannot open");
  // Projectors share the file and commit in turn: wait for each other.
  sqlite3_busy_timeout(t->db_, 10000);
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
    if (auto err = t->exec(sql))
      return err;
  auto table = quoted(t->table_);
  if (auto err = t->exec("BEGIN IMMEDIATE"))
    return err;
  transaction txn{t->db_};
  if (auto err = t->exec(
        ("CREATE TABLE IF NOT EXISTS " + table
         + " (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID")
          .c_str()))
    return err;
  statement find;
  if (auto err = t->prepare(find.stmt,
                            "SELECT definition FROM checkpoints WHERE model = ?"))
    return err;
  bind_text(find.stmt, 1, model);
  auto rc = sqlite3_step(find.stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return t->failure("reading its checkpoint");
  auto known = rc == SQLITE_ROW;
  if (known && column_text(find.stmt, 0) != definition) {
    // Rows folded under another definition mean nothing under this one.
    if (auto err = t->exec(("DELETE FROM " + table).c_str()))
      return err;
    // Events parked under it are replayed and park again if they fail.
    if (auto err = t->drop_parked())
      return err;
    t->definition_changed_ = true;
  }
  if (!known || t->definition_changed_) {
    statement put;
    if (auto err = t->prepare(put.stmt,
                              "INSERT OR REPLACE INTO checkpoints (model, definition, "
                              "checkpoint, above, table_name) VALUES (?, ?, 0, '', ?)"))
      return err;
    bind_text(put.stmt, 1, model);
    bind_text(put.stmt, 2, definition);
    bind_text(put.stmt, 3, t->table_);
    if (sqlite3_step(put.stmt) != SQLITE_DONE)
      return t->failure("writing its checkpoint");
  }
  if (auto err = t->exec("COMMIT"))
    return err;
  txn.done = true;
  if (auto err = t->prepare(t->upsert_, "INSERT OR REPLACE INTO " + table
                                          + " (key, value) VALUES (?, ?)"))
    return err;
  if (auto err = t->prepare(t->erase_, "DELETE FROM " + table + " WHERE key = ?"))
    return err;
  if (auto err = t->prepare(t->checkpoint_,
                            "UPDATE checkpoints SET checkpoint = ?, above = ? "
                            "WHERE model = ?"))
    return err;
  if (auto err = t->prepare(t->park_, "INSERT OR REPLACE INTO parked (model, seq, "
                                      "entry) VALUES (?, ?, ?)"))
    return err;
  if (auto err = t->prepare(t->unpark_,
                            "DELETE FROM parked WHERE model = ? AND seq = ?"))
    return err;
  return t;
}

model_table::~model_table() {
  sqlite3_finalize(upsert_);
  sqlite3_finalize(erase_);
  sqlite3_finalize(checkpoint_);
  sqlite3_finalize(park_);
  sqlite3_finalize(unpark_);
  sqlite3_close_v2(db_);
}

caf::expected<table_contents> model_table::load() {
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
  result.above = internal::split_seqs(column_text(cp.stmt, 1));
  statement rows;
  if (auto err = prepare(rows.stmt, "SELECT key, value FROM " + quoted(table_)))
    return err;
  int rc;
  // One parser for every row: constructing one per row costs more than the
  // parse of a small document.
  boost::json::parser parser;
  while ((rc = sqlite3_step(rows.stmt)) == SQLITE_ROW) {
    auto* text = reinterpret_cast<const char*>(sqlite3_column_text(rows.stmt, 1));
    auto size = static_cast<std::size_t>(sqlite3_column_bytes(rows.stmt, 1));
    boost::system::error_code ec;
    parser.reset();
    parser.write(text ? text : "", size, ec); // the whole value
    if (ec)
      return make_error(errc::storage_failed,
                        "models table of '" + model_ + "': the value of key '"
                          + column_text(rows.stmt, 0) + "' is not JSON");
    auto* key = reinterpret_cast<const char*>(sqlite3_column_text(rows.stmt, 0));
    result.rows.emplace(boost::json::string_view{key ? key : "",
                                                 static_cast<std::size_t>(
                                                   sqlite3_column_bytes(rows.stmt, 0))},
                        parser.release());
  }
  if (rc != SQLITE_DONE)
    return failure("reading its rows");
  statement parked;
  if (auto err = prepare(parked.stmt,
                         "SELECT seq, entry FROM parked WHERE model = ? ORDER BY seq"))
    return err;
  bind_text(parked.stmt, 1, model_);
  while ((rc = sqlite3_step(parked.stmt)) == SQLITE_ROW) {
    boost::system::error_code ec;
    auto entry = boost::json::parse(column_text(parked.stmt, 1), ec);
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

caf::error model_table::write_checkpoint(std::uint64_t checkpoint,
                                         const std::vector<std::uint64_t>& above) {
  auto text = internal::join_seqs(above);
  sqlite3_reset(checkpoint_);
  sqlite3_bind_int64(checkpoint_, 1, static_cast<sqlite3_int64>(checkpoint));
  bind_text(checkpoint_, 2, text);
  bind_text(checkpoint_, 3, model_);
  if (sqlite3_step(checkpoint_) != SQLITE_DONE)
    return failure("writing its checkpoint");
  return caf::none;
}

caf::error model_table::write_parked(parking_lot& parked) {
  changed_parked_.clear();
  parked.take_changes(changed_parked_);
  // A seq parked and taken again in one batch is written once, as it ends.
  std::sort(changed_parked_.begin(), changed_parked_.end());
  changed_parked_.erase(std::unique(changed_parked_.begin(), changed_parked_.end()),
                        changed_parked_.end());
  std::string text;
  for (auto seq : changed_parked_) {
    auto* x = parked.find(seq);
    auto* stmt = x ? park_ : unpark_;
    sqlite3_reset(stmt);
    bind_text(stmt, 1, model_);
    sqlite3_bind_int64(stmt, 2, static_cast<sqlite3_int64>(seq));
    if (x) {
      text = boost::json::serialize(to_json(*x));
      bind_text(stmt, 3, text);
    }
    if (sqlite3_step(stmt) != SQLITE_DONE)
      return failure("writing parked event " + std::to_string(seq));
  }
  return caf::none;
}

caf::error model_table::drop_parked() {
  statement drop;
  if (auto err = prepare(drop.stmt, "DELETE FROM parked WHERE model = ?"))
    return err;
  bind_text(drop.stmt, 1, model_);
  if (sqlite3_step(drop.stmt) != SQLITE_DONE)
    return failure("dropping its parked events");
  return caf::none;
}

caf::error model_table::commit(read_model& model, std::uint64_t checkpoint,
                               const std::vector<std::uint64_t>& above,
                               parking_lot* parked) {
  changed_.clear();
  model.take_changes(changed_);
  // A key changed several times in a batch is written once, as it ends.
  std::sort(changed_.begin(), changed_.end());
  changed_.erase(std::unique(changed_.begin(), changed_.end()), changed_.end());
  if (auto err = exec("BEGIN IMMEDIATE"))
    return err;
  transaction txn{db_};
  std::string text;
  for (auto& key : changed_) {
    auto value = model.query(key);
    auto* stmt = value ? upsert_ : erase_;
    sqlite3_reset(stmt);
    bind_text(stmt, 1, key);
    if (value) {
      text = boost::json::serialize(*value);
      bind_text(stmt, 2, text);
    }
    if (sqlite3_step(stmt) != SQLITE_DONE)
      return failure("writing key '" + key + "'");
  }
  if (parked != nullptr)
    if (auto err = write_parked(*parked))
      return err;
  if (auto err = write_checkpoint(checkpoint, above))
    return err;
  if (auto err = exec("COMMIT"))
    return err;
  txn.done = true;
  rows_written_ += changed_.size();
  return caf::none;
}

caf::error model_table::clear() {
  if (auto err = exec("BEGIN IMMEDIATE"))
    return err;
  transaction txn{db_};
  if (auto err = exec(("DELETE FROM " + quoted(table_)).c_str()))
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

} // namespace bus
