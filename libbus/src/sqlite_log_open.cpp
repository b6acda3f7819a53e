// Opening the durable log: the schema, the migration of older layouts, and
// the check of the rows that also fills the id filter.

#include "bus/sqlite_log.hpp"

#include <algorithm>

#include <boost/json/parse.hpp>

#include "bus/errc.hpp"
#include "internal/id_blocks.hpp"
#include "internal/id_filter.hpp"
#include "internal/read_cache.hpp"
#include "internal/recent_ids.hpp"
#include "internal/sqlite_rows.hpp"
#include "internal/store_lock.hpp"
#include "internal/tail_cache.hpp"
#include "internal/forwarding_vfs.hpp"

namespace bus {

namespace {

using namespace internal;

// The id table (id_blocks, in internal/id_blocks.hpp) is created beside
// these.
constexpr const char* schema = R"sql(
CREATE TABLE IF NOT EXISTS batches (
  first_seq INTEGER PRIMARY KEY,
  count     INTEGER NOT NULL,
  events    BLOB    NOT NULL
);
CREATE TABLE IF NOT EXISTS id_index (
  through INTEGER NOT NULL
);
INSERT INTO id_index (through) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM id_index);
PRAGMA user_version = 6;
)sql";

// Layout 3 keyed the id table by the id alone: its rows move to the table
// of layouts 4 and 5, keyed by the id's size and the id (a row per id),
// whence they go to blocks (migrate_id_rows).
constexpr const char* migrate_layout_3 = R"sql(
ALTER TABLE ids RENAME TO ids_by_text;
CREATE TABLE ids (
  size INTEGER NOT NULL,
  id   TEXT    NOT NULL,
  seq  INTEGER NOT NULL,
  PRIMARY KEY (size, id)
) WITHOUT ROWID;
INSERT INTO ids (size, id, seq)
  SELECT length(CAST(id AS BLOB)), id, seq FROM ids_by_text
  ORDER BY length(CAST(id AS BLOB)), id;
DROP TABLE ids_by_text;
)sql";

// Ids moved to the id table at a time when a store of layouts 3 to 5 is
// migrated.
constexpr std::size_t id_migration_group = 65536;

// Pages of the store the log's connection caches (negative: KiB). Id
// lookups of redelivered events land anywhere in the id table; the cache
// keeps its inner pages and the most used leaves. Bounded, whatever the
// size of the store.
constexpr const char* cache_pragma = "PRAGMA cache_size=-16384";

} // namespace

sqlite_log::sqlite_log(std::string path, durability policy, std::size_t tail_events,
                       std::size_t index_every)
  : path_(std::move(path)),
    policy_(policy),
    filter_(std::make_unique<id_filter>()),
    // Its ids are those of the tail: a hit is confirmed in memory.
    recent_(std::make_unique<recent_ids>(tail_events / 2)),
    index_every_(std::max<std::size_t>(index_every, 1)),
    tail_(std::make_unique<tail_cache>(tail_events)),
    reads_(std::make_unique<read_cache>(read_cache_slots,
                                        tail_cache::default_chunk_events)) {
  timings_.measured = true;
}

caf::expected<std::shared_ptr<sqlite_log>> sqlite_log::open(const std::string& path,
                                                            durability policy,
                                                            std::size_t tail_events,
                                                            std::size_t index_every) {
  std::shared_ptr<sqlite_log> log{
    new sqlite_log(path, policy, tail_events, index_every)};
  try {
    // Before SQLite touches the file: a second writer would hand out the
    // seqs the first one does, and even a migration must not run twice.
    log->lock_ = std::make_unique<store_lock>(path);
    log->vfs_ = std::make_unique<timed_vfs>(log->timings_.fsync);
  } catch (const storage_error& ex) {
    return make_error(errc::storage_failed, path + ": " + ex.what());
  }
  auto rc = sqlite3_open_v2(path.c_str(), &log->db_,
                            SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                              | SQLITE_OPEN_NOMUTEX,
                            log->vfs_->name());
  if (rc != SQLITE_OK)
    return make_error(errc::storage_failed,
                      path + ": cannot open: "
                        + (log->db_ ? sqlite3_errmsg(log->db_) : sqlite3_errstr(rc)));
  try {
    log->open_db();
    log->load();
  } catch (const storage_error& ex) {
    return make_error(errc::storage_failed, path + ": " + ex.what());
  }
  return log;
}

void sqlite_log::open_db() {
  // Another process may read the file: wait for it rather than fail.
  sqlite3_busy_timeout(db_, 10000);
  // Rows are tens of kilobytes: large pages (for a new file; an existing
  // one keeps its own) mean fewer page headers and WAL frames per row.
  exec("PRAGMA page_size=65536");
  exec("PRAGMA journal_mode=WAL");
  exec(policy_.mode() == durability::os_buffered ? "PRAGMA synchronous=NORMAL"
                                                 : "PRAGMA synchronous=FULL");
  exec(cache_pragma);
  int version = 0;
  bool old_layout = false;
  {
    statement st;
    if (sqlite3_prepare_v2(db_, "PRAGMA user_version", -1, &st.stmt, nullptr)
          != SQLITE_OK
        || sqlite3_step(st.stmt) != SQLITE_ROW)
      fail("layout");
    version = sqlite3_column_int(st.stmt, 0);
  }
  {
    statement st;
    if (sqlite3_prepare_v2(db_,
                           "SELECT 1 FROM sqlite_master WHERE type = 'table' "
                           "AND name = 'events'",
                           -1, &st.stmt, nullptr)
        != SQLITE_OK)
      fail("layout");
    old_layout = sqlite3_step(st.stmt) == SQLITE_ROW;
  }
  if (version > log_layout_version)
    throw storage_error("the store has layout " + std::to_string(version)
                        + ", written by a newer release (this one reads "
                          "layouts up to "
                        + std::to_string(log_layout_version) + ")");
  if (version == log_layout_version || (version == 0 && !old_layout)) {
    exec(schema); // current, or a new file
    exec(id_blocks::schema());
    prepare_statements();
    return;
  }
  // An older layout: migrated in one transaction, so that a crash during
  // it leaves the store as it was.
  exec("BEGIN IMMEDIATE");
  try {
    if (version == 3)
      exec(migrate_layout_3);
    exec(schema);
    exec(id_blocks::schema());
    prepare_statements();
    if (version == 0)
      migrate_old_layout();
    if (version < 3)
      index_ids();
    else
      migrate_id_rows();
    // Up to layout 4 the id table held every id; layout 5's `through`
    // counted the ids it held.
    reset_on_exit guard{set_indexed_};
    sqlite3_bind_int64(set_indexed_, 1, static_cast<sqlite3_int64>(ids_->count()));
    if (sqlite3_step(set_indexed_) != SQLITE_DONE)
      fail("migrate: id table");
    exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

void sqlite_log::prepare_statements() {
  auto prepare = [&](const char* sql, sqlite3_stmt** stmt) {
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt, nullptr)
        != SQLITE_OK)
      fail("prepare");
  };
  prepare("INSERT INTO batches (first_seq, count, events) VALUES (?, ?, ?)", &insert_);
  // From the row holding seq ?1 on.
  prepare("SELECT first_seq, count, events FROM batches WHERE first_seq >= "
          "(SELECT first_seq FROM batches WHERE first_seq <= ?1 "
          "ORDER BY first_seq DESC LIMIT 1) ORDER BY first_seq",
          &read_);
  prepare("UPDATE id_index SET through = ?", &set_indexed_);
  ids_ = std::make_unique<id_blocks>(db_);
}

void sqlite_log::load() {
  // Checks that the rows are dense and hold their events, so that a
  // damaged store is refused rather than served with gaps, and fills the
  // id filter on the way; then checks that the id table has every id.
  std::uint64_t expected = 0;
  {
    // The head the last row claims, but never beyond what the file can
    // hold (a record takes at least 8 bytes): a damaged row's count sized
    // the filter past memory (std::bad_alloc).
    statement last;
    if (sqlite3_prepare_v2(db_,
                           "SELECT first_seq + count, (SELECT page_count "
                           "FROM pragma_page_count) * (SELECT page_size "
                           "FROM pragma_page_size) / 8 FROM batches "
                           "ORDER BY first_seq DESC LIMIT 1",
                           -1, &last.stmt, nullptr)
        != SQLITE_OK)
      fail("load");
    if (sqlite3_step(last.stmt) == SQLITE_ROW) {
      auto claimed = sqlite3_column_int64(last.stmt, 0);
      auto bound = sqlite3_column_int64(last.stmt, 1);
      if (claimed > 0)
        expected = static_cast<std::uint64_t>(std::min(claimed, bound));
    }
  }
  // Room for the ids held plus half as many again in the first stage.
  filter_ = std::make_unique<id_filter>(
    static_cast<std::size_t>(expected + expected / 2));
  // The id table holds the ids up to `through`; a crash may have left
  // those of later rows out (it is written in groups).
  std::uint64_t through = 0;
  {
    statement st;
    if (sqlite3_prepare_v2(db_, "SELECT through FROM id_index", -1, &st.stmt, nullptr)
          != SQLITE_OK
        || sqlite3_step(st.stmt) != SQLITE_ROW)
      fail("load: id table");
    auto value = sqlite3_column_int64(st.stmt, 0);
    if (value < 0 || static_cast<std::uint64_t>(value) > expected)
      throw storage_error("corrupt store: the id table claims the ids up to seq "
                          + std::to_string(value) + " of " + std::to_string(expected));
    through = static_cast<std::uint64_t>(value);
  }
  statement st;
  if (sqlite3_prepare_v2(db_,
                         "SELECT first_seq, count, events FROM batches "
                         "ORDER BY first_seq",
                         -1, &st.stmt, nullptr)
      != SQLITE_OK)
    fail("load");
  std::uint64_t next = 1;
  int rc;
  while ((rc = sqlite3_step(st.stmt)) == SQLITE_ROW) {
    auto first = static_cast<std::uint64_t>(sqlite3_column_int64(st.stmt, 0));
    auto count = static_cast<std::uint64_t>(sqlite3_column_int64(st.stmt, 1));
    if (first != next)
      throw storage_error("corrupt store: expected a row at seq " + std::to_string(next)
                          + ", found " + std::to_string(first));
    auto blob = column_blob(st.stmt, 2);
    record_cursor records{blob.data(), blob.size()};
    auto whole = true;
    try {
      for (std::uint64_t i = 0; i < count; ++i) {
        auto id = record_id(records.next());
        filter_->add(hash_id(id));
        if (first + i > through) {
          unindexed_ += id;
          unindexed_ends_.push_back(unindexed_.size());
        }
      }
      whole = records.at_end();
    } catch (const storage_error&) {
      whole = false;
    }
    if (!whole)
      throw storage_error("corrupt store: the row at seq " + std::to_string(first)
                          + " does not hold its " + std::to_string(count) + " events");
    next = first + count;
  }
  if (rc != SQLITE_DONE)
    fail("load");
  head_ = durable_head_ = next - 1;
  auto indexed = ids_->count();
  if (indexed != through || through > head_)
    throw storage_error("corrupt store: the id table holds " + std::to_string(indexed)
                        + " ids for the " + std::to_string(through)
                        + " events it claims (of " + std::to_string(head_) + ")");
  indexed_through_ = through;
  if (unindexed_ends_.empty())
    return;
  exec("BEGIN IMMEDIATE");
  try {
    write_unindexed();
    exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
  indexed_through_ = head_;
  unindexed_.clear();
  unindexed_ends_.clear();
}

void sqlite_log::index_ids() {
  // Fills the id table of a store of layout 2 (or one just migrated from
  // layout 0) from its rows, a group at a time.
  statement st;
  if (sqlite3_prepare_v2(db_,
                         "SELECT first_seq, count, events FROM batches "
                         "ORDER BY first_seq",
                         -1, &st.stmt, nullptr)
      != SQLITE_OK)
    fail("migrate");
  std::string held;
  std::vector<std::pair<std::size_t, std::uint64_t>> ends; // in held, seq
  auto flush = [&] {
    std::vector<id_blocks::entry> ids;
    ids.reserve(ends.size());
    std::size_t begin = 0;
    for (auto [end, seq] : ends) {
      ids.emplace_back(std::string_view{held.data() + begin, end - begin}, seq);
      begin = end;
    }
    ids_->insert(ids);
    held.clear();
    ends.clear();
  };
  int rc;
  while ((rc = sqlite3_step(st.stmt)) == SQLITE_ROW) {
    auto first = static_cast<std::uint64_t>(sqlite3_column_int64(st.stmt, 0));
    auto count = static_cast<std::uint64_t>(sqlite3_column_int64(st.stmt, 1));
    auto blob = column_blob(st.stmt, 2);
    record_cursor records{blob.data(), blob.size()};
    for (std::uint64_t i = 0; i < count; ++i) {
      try {
        held += record_id(records.next());
      } catch (const storage_error&) {
        throw storage_error("cannot migrate: the row at seq " + std::to_string(first)
                            + " does not hold its " + std::to_string(count)
                            + " events");
      }
      ends.emplace_back(held.size(), first + i);
    }
    if (ends.size() >= index_every_)
      flush();
  }
  if (rc != SQLITE_DONE)
    fail("migrate");
  flush();
}

void sqlite_log::migrate_id_rows() {
  // Layouts 3 (once moved by migrate_layout_3), 4 and 5 held a row per id,
  // in key order: the blocks fill in that order, a group at a time.
  {
    statement st;
    if (sqlite3_prepare_v2(db_, "SELECT id, seq FROM ids ORDER BY size, id", -1,
                           &st.stmt, nullptr)
        != SQLITE_OK)
      fail("migrate: id table");
    std::vector<std::string> held;
    std::vector<std::uint64_t> seqs;
    std::vector<id_blocks::entry> ids;
    auto flush = [&] {
      // Views taken once `held` no longer grows.
      ids.clear();
      for (std::size_t i = 0; i < held.size(); ++i)
        ids.emplace_back(held[i], seqs[i]);
      ids_->insert(ids);
      held.clear();
      seqs.clear();
    };
    int rc;
    while ((rc = sqlite3_step(st.stmt)) == SQLITE_ROW) {
      held.emplace_back(column_view(st.stmt, 0));
      seqs.push_back(static_cast<std::uint64_t>(sqlite3_column_int64(st.stmt, 1)));
      if (held.size() >= id_migration_group)
        flush();
    }
    if (rc != SQLITE_DONE)
      fail("migrate: id table");
    flush();
  }
  exec("DROP TABLE ids");
}

void sqlite_log::migrate_old_layout() {
  // Within the caller's transaction.
  row_builder rows{
    [this](std::uint64_t first, std::uint32_t count, const std::string& blob) {
      insert_row(first, count, blob, "migrate");
    }};
  statement old;
  if (sqlite3_prepare_v2(db_,
                         "SELECT seq, id, type, payload, timestamp, "
                         "schema_version, metadata, id_derived FROM events "
                         "ORDER BY seq",
                         -1, &old.stmt, nullptr)
      != SQLITE_OK)
    fail("migrate");
  std::uint64_t next = 1;
  int rc;
  while ((rc = sqlite3_step(old.stmt)) == SQLITE_ROW) {
    event e;
    e.seq = static_cast<std::uint64_t>(sqlite3_column_int64(old.stmt, 0));
    if (e.seq != next)
      throw storage_error("cannot migrate the old layout: no event at seq "
                          + std::to_string(next));
    ++next;
    e.id = column_view(old.stmt, 1);
    e.type = column_view(old.stmt, 2);
    boost::system::error_code ec;
    auto payload = boost::json::parse(column_view(old.stmt, 3), ec);
    auto metadata = boost::json::parse(column_view(old.stmt, 6), ec);
    if (ec || !payload.is_object() || !metadata.is_object())
      throw storage_error("cannot migrate the old layout: event seq "
                          + std::to_string(e.seq) + " is corrupt");
    e.payload = std::move(payload.get_object());
    e.metadata = std::move(metadata.get_object());
    e.timestamp = sqlite3_column_int64(old.stmt, 4);
    e.schema_version = static_cast<std::uint32_t>(sqlite3_column_int64(old.stmt, 5));
    e.id_derived = sqlite3_column_int64(old.stmt, 7) != 0;
    rows.add(e);
  }
  if (rc != SQLITE_DONE)
    fail("migrate");
  rows.flush();
  sqlite3_finalize(old.stmt); // DROP TABLE fails while a statement reads it
  old.stmt = nullptr;
  exec("DROP TABLE events");
}

void sqlite_log::exec(const char* sql) const {
  char* msg = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
    std::string text = msg ? msg : "unknown error";
    sqlite3_free(msg);
    throw storage_error(std::string{"sqlite: "} + text);
  }
}

void sqlite_log::fail(const std::string& what) const {
  throw storage_error("sqlite: " + what + ": " + sqlite3_errmsg(db_));
}

} // namespace bus
