#include "bus/snapshot_store.hpp"

#include <sqlite3.h>

#include <string_view>

#include "bus/errc.hpp"
#include "internal/seq_list.hpp"

namespace bus {

namespace {

caf::error sqlite_error(sqlite3* db, const std::string& what) {
  return make_error(errc::storage_failed,
                    "snapshots: " + what + ": " + (db ? sqlite3_errmsg(db) : "no database"));
}

// A prepared statement finalized at scope exit.
struct statement {
  sqlite3_stmt* stmt = nullptr;
  ~statement() {
    sqlite3_finalize(stmt);
  }
};

// True when the snapshots table of `db` has a `parked` column.
bool has_parked_column(sqlite3* db) {
  statement s;
  if (sqlite3_prepare_v2(db, "SELECT name FROM pragma_table_info('snapshots')", -1,
                         &s.stmt, nullptr)
      != SQLITE_OK)
    return false;
  while (sqlite3_step(s.stmt) == SQLITE_ROW) {
    auto* name = reinterpret_cast<const char*>(sqlite3_column_text(s.stmt, 0));
    if (name != nullptr && std::string_view{name} == "parked")
      return true;
  }
  return false;
}

// Adds the `parked` column to a table written before parking existed. In a
// write transaction, so that two projectors opening the same old file at
// once do not both add it.
caf::error migrate(sqlite3* db, const std::string& path) {
  if (sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK)
    return sqlite_error(db, path);
  auto ok = has_parked_column(db)
            || sqlite3_exec(db,
                            "ALTER TABLE snapshots ADD COLUMN parked TEXT NOT NULL "
                            "DEFAULT ''",
                            nullptr, nullptr, nullptr)
                 == SQLITE_OK;
  if (ok && sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK)
    return caf::none;
  auto err = sqlite_error(db, path + ": adding the parked column");
  sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
  return err;
}

} // namespace

caf::expected<std::unique_ptr<snapshot_store>>
snapshot_store::open(const std::string& path) {
  std::unique_ptr<snapshot_store> store{new snapshot_store};
  if (sqlite3_open_v2(path.c_str(), &store->db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr)
      != SQLITE_OK)
    return sqlite_error(store->db_, path + ": cannot open");
  // Several projectors write the same file in turn: wait for each other.
  sqlite3_busy_timeout(store->db_, 10000);
  for (auto* sql : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
                    "CREATE TABLE IF NOT EXISTS snapshots (model TEXT PRIMARY KEY, "
                    "checkpoint INTEGER NOT NULL, above TEXT NOT NULL, "
                    "definition TEXT NOT NULL, state TEXT NOT NULL, "
                    "parked TEXT NOT NULL DEFAULT '')"})
    if (sqlite3_exec(store->db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK)
      return sqlite_error(store->db_, path);
  if (!has_parked_column(store->db_))
    if (auto err = migrate(store->db_, path))
      return err;
  return store;
}

snapshot_store::~snapshot_store() {
  sqlite3_close_v2(db_);
}

caf::error snapshot_store::save(const std::string& model, const snapshot& x) {
  statement s;
  if (sqlite3_prepare_v2(db_,
                         "INSERT OR REPLACE INTO snapshots (model, checkpoint, above, "
                         "definition, state, parked) VALUES (?,?,?,?,?,?)",
                         -1, &s.stmt, nullptr)
      != SQLITE_OK)
    return sqlite_error(db_, "save");
  auto above = internal::join_seqs(x.above);
  // Nothing parked is stored as '', as in a row written before parking.
  auto parked = x.parked.empty() ? std::string{} : parked_events_text(x.parked);
  sqlite3_bind_text(s.stmt, 1, model.data(), static_cast<int>(model.size()), SQLITE_STATIC);
  sqlite3_bind_int64(s.stmt, 2, static_cast<sqlite3_int64>(x.checkpoint));
  sqlite3_bind_text(s.stmt, 3, above.data(), static_cast<int>(above.size()), SQLITE_STATIC);
  sqlite3_bind_text(s.stmt, 4, x.definition.data(), static_cast<int>(x.definition.size()),
                    SQLITE_STATIC);
  sqlite3_bind_text(s.stmt, 5, x.state.data(), static_cast<int>(x.state.size()),
                    SQLITE_STATIC);
  sqlite3_bind_text(s.stmt, 6, parked.data(), static_cast<int>(parked.size()),
                    SQLITE_STATIC);
  if (sqlite3_step(s.stmt) != SQLITE_DONE)
    return sqlite_error(db_, "save");
  return caf::none;
}

caf::expected<std::optional<snapshot>> snapshot_store::load(const std::string& model) {
  statement s;
  if (sqlite3_prepare_v2(db_,
                         "SELECT checkpoint, above, definition, state, parked "
                         "FROM snapshots WHERE model = ?",
                         -1, &s.stmt, nullptr)
      != SQLITE_OK)
    return sqlite_error(db_, "load");
  sqlite3_bind_text(s.stmt, 1, model.data(), static_cast<int>(model.size()), SQLITE_STATIC);
  auto rc = sqlite3_step(s.stmt);
  if (rc == SQLITE_DONE)
    return std::optional<snapshot>{};
  if (rc != SQLITE_ROW)
    return sqlite_error(db_, "load");
  auto text = [&](int i) {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s.stmt, i));
    return std::string{p ? p : "", static_cast<std::size_t>(sqlite3_column_bytes(s.stmt, i))};
  };
  snapshot x;
  x.checkpoint = static_cast<std::uint64_t>(sqlite3_column_int64(s.stmt, 0));
  x.above = internal::split_seqs(text(1));
  x.definition = text(2);
  x.state = text(3);
  auto parked = parked_events_from_text(text(4));
  if (!parked)
    return make_error(errc::storage_failed, "snapshots: the parked events of '"
                                              + model + "' do not decode: "
                                              + context_of(parked.error()));
  x.parked = std::move(*parked);
  return std::optional<snapshot>{std::move(x)};
}

} // namespace bus
