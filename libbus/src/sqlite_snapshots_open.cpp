// Opening the SQLite backend of snapshot_store: the file's settings, its
// tables, and the columns a file of an earlier release lacks.

#include <algorithm>
#include <iterator>
#include <utility>

#include "internal/sqlite_snapshots.hpp"
#include "internal/write_turns.hpp"

namespace bus::internal {

using namespace snapshot_sql;

namespace {

// True when the snapshots table of `db` has the column `name`.
bool has_column(sqlite3* db, std::string_view name) {
  statement s;
  if (sqlite3_prepare_v2(db, "SELECT name FROM pragma_table_info('snapshots')", -1,
                         &s.stmt, nullptr)
      != SQLITE_OK)
    return false;
  while (sqlite3_step(s.stmt) == SQLITE_ROW)
    if (column_text(s.stmt, 0) == name)
      return true;
  return false;
}

// The columns added since the first release, with their defaults for the
// rows written before them.
constexpr std::pair<const char*, const char*> added_columns[] = {
  {"parked", "ALTER TABLE snapshots ADD COLUMN parked TEXT NOT NULL DEFAULT ''"},
  {"layout", "ALTER TABLE snapshots ADD COLUMN layout TEXT NOT NULL DEFAULT 'whole'"},
};

bool migrated(sqlite3* db) {
  return std::all_of(std::begin(added_columns), std::end(added_columns),
                     [db](auto& c) { return has_column(db, c.first); });
}

// Adds the columns a file of an earlier release lacks. In a write
// transaction, so that two projectors opening the same old file at once do
// not both add them.
caf::error migrate(sqlite3* db, const std::string& path) {
  if (sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK)
    return sqlite_error(db, path);
  transaction txn{db};
  for (auto& [name, sql] : added_columns)
    if (!has_column(db, name)
        && sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK)
      return sqlite_error(db, path + ": adding the " + name + " column");
  if (sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK)
    return sqlite_error(db, path + ": adding columns");
  txn.done = true;
  return caf::none;
}

} // namespace

caf::expected<std::unique_ptr<sqlite_snapshots::backend>>
open_sqlite_snapshots(const std::string& path, std::chrono::milliseconds busy_timeout) {
  sqlite3* db = nullptr;
  auto rc = sqlite3_open_v2(
    path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
    nullptr);
  // The backend owns the handle from here on, even a failed one.
  auto turn = write_turn_for(path);
  auto store = std::make_unique<sqlite_snapshots>(db, turn);
  if (rc != SQLITE_OK)
    return sqlite_error(db, path + ": cannot open");
  // Several projectors and writers use the same file: those of this
  // process take turns (the settings and tables below too), those of
  // others wait for each other.
  std::lock_guard<std::mutex> my_turn{*turn};
  sqlite3_busy_timeout(db, static_cast<int>(busy_timeout.count()));
  // Large pages: a snapshot's rows are a few large texts, written and read
  // whole; 64 KiB pages cost fewer page headers and system calls than 4 KiB
  // ones (only a new file takes the size). A rollback journal rather than a
  // WAL: the rows are appended, and pages past the end of the file need no
  // journal, where a WAL would write every byte twice (to the WAL, then to
  // the file). Measured here: a third less time in the writer. A file of an
  // earlier release, in WAL mode, may stay in it while another connection
  // has it open: that costs time, not safety.
  sqlite3_exec(db, "PRAGMA page_size=65536", nullptr, nullptr, nullptr);
  sqlite3_exec(db, "PRAGMA journal_mode=TRUNCATE", nullptr, nullptr, nullptr);
  for (auto* sql :
       {"PRAGMA synchronous=FULL",
        "CREATE TABLE IF NOT EXISTS snapshots (model TEXT PRIMARY KEY, "
        "checkpoint INTEGER NOT NULL, above TEXT NOT NULL, "
        "definition TEXT NOT NULL, state TEXT NOT NULL, "
        "parked TEXT NOT NULL DEFAULT '', "
        "layout TEXT NOT NULL DEFAULT 'whole')",
        "CREATE TABLE IF NOT EXISTS snapshot_rows (model TEXT NOT NULL, "
        "part INTEGER NOT NULL, bytes INTEGER NOT NULL, rows TEXT NOT NULL, "
        "PRIMARY KEY (model, part))",
        "CREATE TABLE IF NOT EXISTS snapshot_owners (model TEXT PRIMARY KEY, "
        "generation INTEGER NOT NULL)"})
    if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK)
      return sqlite_error(db, path);
  if (!migrated(db))
    if (auto err = migrate(db, path))
      return err;
  return std::unique_ptr<sqlite_snapshots::backend>{std::move(store)};
}

} // namespace bus::internal
