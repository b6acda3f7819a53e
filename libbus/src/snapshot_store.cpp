#include "bus/snapshot_store.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <string_view>

#include "bus/errc.hpp"
#include "bus/snapshot_rows.hpp"
#include "internal/seq_list.hpp"

namespace bus {

namespace {

// Deltas are folded into the base once they hold this many bytes and twice
// as many as the base: each row is folded about 1.5 times, a restore reads
// at most three times the state (and folds it before it parses anything),
// and a fold holds about as much in memory (four times would fold less
// often, and hold more).
constexpr std::uint64_t min_deltas_to_compact = 64 * 1024;
constexpr std::uint64_t deltas_per_base = 2;

caf::error sqlite_error(sqlite3* db, const std::string& what) {
  return make_error(errc::storage_failed,
                    "snapshots: " + what + ": "
                      + (db ? sqlite3_errmsg(db) : "no database"));
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

std::string column_text(sqlite3_stmt* stmt, int i) {
  auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
  return {p ? p : "", static_cast<std::size_t>(sqlite3_column_bytes(stmt, i))};
}

void bind_text(sqlite3_stmt* stmt, int i, std::string_view x) {
  // An empty view may point nowhere, which SQLite would bind as NULL.
  sqlite3_bind_text(stmt, i, x.empty() ? "" : x.data(), static_cast<int>(x.size()),
                    SQLITE_STATIC);
}

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

const char* to_string(snapshot_layout x) noexcept {
  return x == snapshot_layout::rows ? "rows" : "whole";
}

caf::expected<std::unique_ptr<snapshot_store>>
snapshot_store::open(const std::string& path) {
  std::unique_ptr<snapshot_store> store{new snapshot_store};
  if (sqlite3_open_v2(path.c_str(), &store->db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr)
      != SQLITE_OK)
    return sqlite_error(store->db_, path + ": cannot open");
  // Several projectors and writers use the same file in turn: wait for
  // each other.
  sqlite3_busy_timeout(store->db_, 10000);
  // Large pages: a snapshot's rows are a few large texts, written and read
  // whole; 64 KiB pages cost fewer page headers and system calls than 4 KiB
  // ones (only a new file takes the size). A rollback journal rather than a
  // WAL: the rows are appended, and pages past the end of the file need no
  // journal, where a WAL would write every byte twice (to the WAL, then to
  // the file). Measured here: a third less time in the writer. A file of an
  // earlier release, in WAL mode, may stay in it while another connection
  // has it open: that costs time, not safety.
  sqlite3_exec(store->db_, "PRAGMA page_size=65536", nullptr, nullptr, nullptr);
  sqlite3_exec(store->db_, "PRAGMA journal_mode=TRUNCATE", nullptr, nullptr, nullptr);
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
    if (sqlite3_exec(store->db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK)
      return sqlite_error(store->db_, path);
  if (!migrated(store->db_))
    if (auto err = migrate(store->db_, path))
      return err;
  return store;
}

snapshot_store::~snapshot_store() {
  sqlite3_close_v2(db_);
}

caf::error snapshot_store::exec(const char* sql, const std::string& what) {
  if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK)
    return sqlite_error(db_, what);
  return caf::none;
}

caf::expected<bool> snapshot_store::owns(const std::string& model,
                                         std::uint64_t generation) {
  statement s;
  if (sqlite3_prepare_v2(db_, "SELECT generation FROM snapshot_owners WHERE model = ?",
                         -1, &s.stmt, nullptr)
      != SQLITE_OK)
    return sqlite_error(db_, "reading the owner of '" + model + "'");
  bind_text(s.stmt, 1, model);
  auto rc = sqlite3_step(s.stmt);
  if (rc == SQLITE_DONE)
    return false;
  if (rc != SQLITE_ROW)
    return sqlite_error(db_, "reading the owner of '" + model + "'");
  return static_cast<std::uint64_t>(sqlite3_column_int64(s.stmt, 0)) == generation;
}

caf::expected<snapshot_store::rows_text>
snapshot_store::read_parts(const std::string& model) {
  statement s;
  if (sqlite3_prepare_v2(db_,
                         "SELECT rowid, bytes FROM snapshot_rows WHERE model = ? "
                         "ORDER BY part",
                         -1, &s.stmt, nullptr)
      != SQLITE_OK)
    return sqlite_error(db_, "reading the rows of '" + model + "'");
  bind_text(s.stmt, 1, model);
  std::vector<std::pair<sqlite3_int64, std::size_t>> found;
  std::size_t total = 0;
  int rc;
  while ((rc = sqlite3_step(s.stmt)) == SQLITE_ROW) {
    auto bytes = static_cast<std::size_t>(sqlite3_column_int64(s.stmt, 1));
    found.emplace_back(sqlite3_column_int64(s.stmt, 0), bytes);
    total += bytes;
  }
  if (rc != SQLITE_DONE)
    return sqlite_error(db_, "reading the rows of '" + model + "'");
  // Straight into one buffer, left uninitialized: a column's text would be
  // assembled from its pages first, then copied again.
  rows_text result;
  result.bytes.reset(new char[total > 0 ? total : 1]);
  auto* at = result.bytes.get();
  for (auto [rowid, bytes] : found) {
    sqlite3_blob* blob = nullptr;
    auto ok = sqlite3_blob_open(db_, "main", "snapshot_rows", "rows", rowid, 0, &blob)
                == SQLITE_OK
              && static_cast<std::size_t>(sqlite3_blob_bytes(blob)) == bytes
              && sqlite3_blob_read(blob, at, static_cast<int>(bytes), 0) == SQLITE_OK;
    sqlite3_blob_close(blob);
    if (!ok)
      return make_error(errc::storage_failed,
                        "snapshots: the rows of '" + model + "' do not read back");
    result.parts.emplace_back(at, bytes);
    at += bytes;
  }
  return result;
}

caf::expected<std::optional<snapshot>> snapshot_store::read(const std::string& model) {
  statement s;
  if (sqlite3_prepare_v2(db_,
                         "SELECT checkpoint, above, definition, state, parked, layout "
                         "FROM snapshots WHERE model = ?",
                         -1, &s.stmt, nullptr)
      != SQLITE_OK)
    return sqlite_error(db_, "load");
  bind_text(s.stmt, 1, model);
  auto rc = sqlite3_step(s.stmt);
  if (rc == SQLITE_DONE)
    return std::optional<snapshot>{};
  if (rc != SQLITE_ROW)
    return sqlite_error(db_, "load");
  snapshot x;
  x.checkpoint = static_cast<std::uint64_t>(sqlite3_column_int64(s.stmt, 0));
  x.above = internal::split_seqs(column_text(s.stmt, 1));
  x.definition = column_text(s.stmt, 2);
  x.state = column_text(s.stmt, 3);
  auto parked = parked_events_from_text(column_text(s.stmt, 4));
  if (!parked)
    return make_error(errc::storage_failed,
                      "snapshots: the parked events of '" + model
                        + "' do not decode: " + context_of(parked.error()));
  x.parked = std::move(*parked);
  auto layout = column_text(s.stmt, 5);
  if (layout == "rows") {
    x.layout = snapshot_layout::rows;
    auto rows = read_parts(model);
    if (!rows)
      return std::move(rows.error());
    for (auto part : rows->parts)
      x.state += part;
  } else if (layout != "whole") {
    return make_error(errc::storage_failed, "snapshots: the snapshot of '" + model
                                              + "' has an unknown layout '" + layout
                                              + "' (written by a newer release?)");
  }
  return std::optional<snapshot>{std::move(x)};
}

caf::expected<std::optional<snapshot>> snapshot_store::load(const std::string& model) {
  // One read transaction: the row and its rows of the same commit.
  if (auto err = exec("BEGIN", "load"))
    return err;
  transaction txn{db_};
  return read(model);
}

caf::expected<snapshot_claim> snapshot_store::claim(const std::string& model) {
  if (auto err = exec("BEGIN IMMEDIATE", "claiming '" + model + "'"))
    return err;
  transaction txn{db_};
  statement bump;
  if (sqlite3_prepare_v2(
        db_,
        "INSERT INTO snapshot_owners (model, generation) VALUES (?, 1) "
        "ON CONFLICT (model) DO UPDATE SET generation = generation + 1 "
        "RETURNING generation",
        -1, &bump.stmt, nullptr)
      != SQLITE_OK)
    return sqlite_error(db_, "claiming '" + model + "'");
  bind_text(bump.stmt, 1, model);
  if (sqlite3_step(bump.stmt) != SQLITE_ROW)
    return sqlite_error(db_, "claiming '" + model + "'");
  snapshot_claim result;
  result.generation = static_cast<std::uint64_t>(sqlite3_column_int64(bump.stmt, 0));
  sqlite3_reset(bump.stmt);
  auto stored = read(model);
  if (!stored)
    return std::move(stored.error());
  result.stored = std::move(*stored);
  if (auto err = exec("COMMIT", "claiming '" + model + "'"))
    return err;
  txn.done = true;
  // Another connection may have written this model's rows before the claim.
  sizes_.erase(model);
  return result;
}

caf::expected<bool> snapshot_store::has_rows(const std::string& model) {
  statement s;
  if (sqlite3_prepare_v2(db_, "SELECT layout FROM snapshots WHERE model = ?", -1,
                         &s.stmt, nullptr)
      != SQLITE_OK)
    return sqlite_error(db_, "save");
  bind_text(s.stmt, 1, model);
  auto rc = sqlite3_step(s.stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return sqlite_error(db_, "save");
  return rc == SQLITE_ROW && column_text(s.stmt, 0) == "rows";
}

caf::expected<snapshot_store::rows_sizes*>
snapshot_store::sizes_of(const std::string& model) {
  if (auto i = sizes_.find(model); i != sizes_.end())
    return &i->second;
  statement s;
  if (sqlite3_prepare_v2(db_, "SELECT part, bytes FROM snapshot_rows WHERE model = ?",
                         -1, &s.stmt, nullptr)
      != SQLITE_OK)
    return sqlite_error(db_, "reading the rows of '" + model + "'");
  bind_text(s.stmt, 1, model);
  rows_sizes sizes;
  int rc;
  while ((rc = sqlite3_step(s.stmt)) == SQLITE_ROW) {
    auto part = sqlite3_column_int64(s.stmt, 0);
    auto bytes = static_cast<std::uint64_t>(sqlite3_column_int64(s.stmt, 1));
    (part == 0 ? sizes.base_bytes : sizes.delta_bytes) += bytes;
    sizes.next_part = std::max<std::int64_t>(sizes.next_part, part + 1);
  }
  if (rc != SQLITE_DONE)
    return sqlite_error(db_, "reading the rows of '" + model + "'");
  return &sizes_.emplace(model, sizes).first->second;
}

caf::error snapshot_store::write_row(const std::string& model, const snapshot& x) {
  statement s;
  if (sqlite3_prepare_v2(db_,
                         "INSERT OR REPLACE INTO snapshots (model, checkpoint, above, "
                         "definition, state, parked, layout) VALUES (?,?,?,?,?,?,?)",
                         -1, &s.stmt, nullptr)
      != SQLITE_OK)
    return sqlite_error(db_, "save");
  auto above = internal::join_seqs(x.above);
  // Nothing parked is stored as '', as in a row written before parking.
  auto parked = x.parked.empty() ? std::string{} : parked_events_text(x.parked);
  auto whole = x.layout == snapshot_layout::whole;
  bind_text(s.stmt, 1, model);
  sqlite3_bind_int64(s.stmt, 2, static_cast<sqlite3_int64>(x.checkpoint));
  bind_text(s.stmt, 3, above);
  bind_text(s.stmt, 4, x.definition);
  bind_text(s.stmt, 5, whole ? std::string_view{x.state} : std::string_view{});
  bind_text(s.stmt, 6, parked);
  bind_text(s.stmt, 7, to_string(x.layout));
  if (sqlite3_step(s.stmt) != SQLITE_DONE)
    return sqlite_error(db_, "save");
  return caf::none;
}

caf::error snapshot_store::write_part(const std::string& model, std::int64_t part,
                                      const std::string& rows) {
  statement s;
  if (sqlite3_prepare_v2(db_,
                         "INSERT INTO snapshot_rows (model, part, bytes, rows) "
                         "VALUES (?,?,?,?)",
                         -1, &s.stmt, nullptr)
      != SQLITE_OK)
    return sqlite_error(db_, "save");
  bind_text(s.stmt, 1, model);
  sqlite3_bind_int64(s.stmt, 2, part);
  sqlite3_bind_int64(s.stmt, 3, static_cast<sqlite3_int64>(rows.size()));
  bind_text(s.stmt, 4, rows);
  if (sqlite3_step(s.stmt) != SQLITE_DONE)
    return sqlite_error(db_, "saving rows of '" + model + "'");
  return caf::none;
}

caf::error snapshot_store::drop_parts(const std::string& model) {
  statement s;
  if (sqlite3_prepare_v2(db_, "DELETE FROM snapshot_rows WHERE model = ?", -1, &s.stmt,
                         nullptr)
      != SQLITE_OK)
    return sqlite_error(db_, "save");
  bind_text(s.stmt, 1, model);
  if (sqlite3_step(s.stmt) != SQLITE_DONE)
    return sqlite_error(db_, "dropping the rows of '" + model + "'");
  return caf::none;
}

caf::expected<save_outcome> snapshot_store::save(const std::string& model,
                                                 const snapshot& x,
                                                 std::uint64_t generation,
                                                 rows_write how) {
  if (auto err = exec("BEGIN IMMEDIATE", "save"))
    return err;
  transaction txn{db_};
  auto mine = owns(model, generation);
  if (!mine)
    return std::move(mine.error());
  if (!*mine)
    return save_outcome::superseded;
  auto delta = x.layout == snapshot_layout::rows && how == rows_write::delta;
  rows_sizes after{x.state.size(), 0, 1};
  if (delta) {
    // A delta follows the rows its projector wrote or restored; with
    // anything else stored it would describe another state.
    auto rows = has_rows(model);
    if (!rows)
      return std::move(rows.error());
    if (!*rows)
      return make_error(errc::storage_failed,
                        "snapshots: a delta of '" + model + "' without its rows");
    auto sizes = sizes_of(model);
    if (!sizes)
      return std::move(sizes.error());
    after = **sizes;
    if (!x.state.empty()) {
      if (auto err = write_part(model, after.next_part, x.state))
        return err;
      after.delta_bytes += x.state.size();
      ++after.next_part;
    }
  } else {
    if (auto err = drop_parts(model))
      return err;
    if (x.layout == snapshot_layout::rows)
      if (auto err = write_part(model, 0, x.state))
        return err;
  }
  if (auto err = write_row(model, x))
    return err;
  if (auto err = exec("COMMIT", "save"))
    return err;
  txn.done = true;
  if (x.layout == snapshot_layout::rows)
    sizes_[model] = after;
  else
    sizes_.erase(model);
  return save_outcome::saved;
}

caf::expected<bool> snapshot_store::compaction_due(const std::string& model) {
  auto sizes = sizes_of(model);
  if (!sizes)
    return std::move(sizes.error());
  auto& x = **sizes;
  return x.delta_bytes
         >= std::max(min_deltas_to_compact, deltas_per_base * x.base_bytes);
}

caf::expected<std::uint64_t> snapshot_store::base_bytes(const std::string& model) {
  auto sizes = sizes_of(model);
  if (!sizes)
    return std::move(sizes.error());
  return (*sizes)->base_bytes;
}

caf::expected<save_outcome> snapshot_store::compact(const std::string& model,
                                                    std::uint64_t generation) {
  // Read and fold outside the write transaction, so that other models'
  // writers need not wait for the fold: only this model's owner writes its
  // rows, and the owner is checked again before anything is written.
  auto rows = read_parts(model);
  if (!rows)
    return std::move(rows.error());
  auto base = compact_rows(rows->parts);
  if (!base)
    return std::move(base.error());
  *rows = rows_text{};
  if (auto err = exec("BEGIN IMMEDIATE", "compacting '" + model + "'"))
    return err;
  transaction txn{db_};
  auto mine = owns(model, generation);
  if (!mine)
    return std::move(mine.error());
  if (!*mine)
    return save_outcome::superseded;
  if (auto err = drop_parts(model))
    return err;
  if (auto err = write_part(model, 0, *base))
    return err;
  if (auto err = exec("COMMIT", "compacting '" + model + "'"))
    return err;
  txn.done = true;
  sizes_[model] = rows_sizes{base->size(), 0, 1};
  return save_outcome::saved;
}

} // namespace bus
