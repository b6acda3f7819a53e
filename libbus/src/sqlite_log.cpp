#include "bus/sqlite_log.hpp"


#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <sqlite3.h>

#include "bus/errc.hpp"

namespace bus {

namespace {

constexpr const char* schema = R"sql(
CREATE TABLE IF NOT EXISTS events (
  seq            INTEGER PRIMARY KEY,
  id             TEXT    NOT NULL UNIQUE,
  type           TEXT    NOT NULL,
  payload        TEXT    NOT NULL,
  timestamp      INTEGER NOT NULL,
  schema_version INTEGER NOT NULL,
  metadata       TEXT    NOT NULL,
  id_derived     INTEGER NOT NULL
);
)sql";

// Resets a prepared statement when leaving a scope, whatever happens.
struct reset_on_exit {
  sqlite3_stmt* stmt;
  ~reset_on_exit() {
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
  }
};

void bind_text(sqlite3_stmt* stmt, int index, std::string_view text) {
  sqlite3_bind_text(stmt, index, text.data(), static_cast<int>(text.size()),
                    SQLITE_TRANSIENT);
}

std::string_view column_text(sqlite3_stmt* stmt, int index) {
  auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt, index));
  return {data ? data : "", static_cast<std::size_t>(sqlite3_column_bytes(stmt, index))};
}

} // namespace

std::string to_string(durability x) {
  return x == durability::fsync_each_batch ? "fsync" : "os";
}

caf::expected<durability> parse_durability(const std::string& text) {
  if (text == "fsync")
    return durability::fsync_each_batch;
  if (text == "os")
    return durability::os_buffered;
  return make_error(errc::invalid_config,
                    "durability: expected \"fsync\" or \"os\", got \"" + text + "\"");
}

caf::expected<std::shared_ptr<sqlite_log>>
sqlite_log::open(const std::string& path, durability policy) {
  std::shared_ptr<sqlite_log> log{new sqlite_log};
  auto rc = sqlite3_open_v2(path.c_str(), &log->db_,
                            SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                              | SQLITE_OPEN_NOMUTEX,
                            nullptr);
  if (rc != SQLITE_OK)
    return make_error(errc::storage_failed,
                      path + ": cannot open: "
                        + (log->db_ ? sqlite3_errmsg(log->db_) : sqlite3_errstr(rc)));
  // Another process may read the file: wait for it rather than fail.
  sqlite3_busy_timeout(log->db_, 10000);
  try {
    log->exec("PRAGMA journal_mode=WAL");
    log->exec(policy == durability::fsync_each_batch ? "PRAGMA synchronous=FULL"
                                                     : "PRAGMA synchronous=NORMAL");
    log->exec(schema);
    auto prepare = [&](const char* sql, sqlite3_stmt** stmt) {
      if (sqlite3_prepare_v3(log->db_, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt,
                             nullptr)
          != SQLITE_OK)
        log->fail("prepare");
    };
    prepare("INSERT OR IGNORE INTO events (seq, id, type, payload, timestamp, "
            "schema_version, metadata, id_derived) VALUES (?,?,?,?,?,?,?,?)",
            &log->insert_);
    prepare("SELECT seq FROM events WHERE id = ?", &log->find_);
    prepare("SELECT seq, id, type, payload, timestamp, schema_version, metadata, "
            "id_derived FROM events WHERE seq >= ? ORDER BY seq LIMIT ?",
            &log->read_);
    sqlite3_stmt* head = nullptr;
    prepare("SELECT COALESCE(MAX(seq), 0) FROM events", &head);
    if (sqlite3_step(head) == SQLITE_ROW)
      log->head_ = static_cast<std::uint64_t>(sqlite3_column_int64(head, 0));
    sqlite3_finalize(head);
  } catch (const storage_error& ex) {
    return make_error(errc::storage_failed, path + ": " + ex.what());
  }
  return log;
}

sqlite_log::~sqlite_log() {
  for (auto* stmt : {insert_, find_, read_})
    sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
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

std::optional<std::uint64_t> sqlite_log::find(std::string_view id) const {
  reset_on_exit guard{find_};
  bind_text(find_, 1, id);
  switch (sqlite3_step(find_)) {
    case SQLITE_ROW:
      return static_cast<std::uint64_t>(sqlite3_column_int64(find_, 0));
    case SQLITE_DONE:
      return std::nullopt;
    default:
      fail("find");
  }
}

event_batch sqlite_log::read(std::uint64_t from, std::size_t max) const {
  if (from == 0 || from > head_ || max == 0)
    return {};
  reset_on_exit guard{read_};
  sqlite3_bind_int64(read_, 1, static_cast<sqlite3_int64>(from));
  sqlite3_bind_int64(read_, 2, static_cast<sqlite3_int64>(max));
  std::vector<event> events;
  int rc;
  while ((rc = sqlite3_step(read_)) == SQLITE_ROW) {
    event e;
    e.seq = static_cast<std::uint64_t>(sqlite3_column_int64(read_, 0));
    e.id = column_text(read_, 1);
    e.type = column_text(read_, 2);
    boost::system::error_code ec;
    auto payload = boost::json::parse(column_text(read_, 3), ec);
    if (ec || !payload.is_object())
      throw storage_error("sqlite: event seq " + std::to_string(e.seq)
                          + " has a corrupt payload");
    e.payload = std::move(payload.get_object());
    e.timestamp = sqlite3_column_int64(read_, 4);
    e.schema_version = static_cast<std::uint32_t>(sqlite3_column_int64(read_, 5));
    auto metadata = boost::json::parse(column_text(read_, 6), ec);
    if (ec || !metadata.is_object())
      throw storage_error("sqlite: event seq " + std::to_string(e.seq)
                          + " has corrupt metadata");
    e.metadata = std::move(metadata.get_object());
    e.id_derived = sqlite3_column_int64(read_, 7) != 0;
    events.push_back(std::move(e));
  }
  if (rc != SQLITE_DONE)
    fail("read");
  return event_batch::of(std::move(events));
}

append_result sqlite_log::do_append(std::vector<event> batch) {
  append_result result;
  result.outcomes.reserve(batch.size());
  auto now = now_ns();
  std::vector<event> stored;
  stored.reserve(batch.size());
  auto head = head_;
  exec("BEGIN IMMEDIATE");
  try {
    for (auto& e : batch) {
      reset_on_exit guard{insert_};
      auto payload = boost::json::serialize(e.payload);
      auto metadata = boost::json::serialize(e.metadata);
      auto timestamp = e.timestamp == 0 ? now : e.timestamp;
      sqlite3_bind_int64(insert_, 1, static_cast<sqlite3_int64>(head + 1));
      bind_text(insert_, 2, e.id);
      bind_text(insert_, 3, e.type);
      bind_text(insert_, 4, payload);
      sqlite3_bind_int64(insert_, 5, timestamp);
      sqlite3_bind_int64(insert_, 6, e.schema_version);
      bind_text(insert_, 7, metadata);
      sqlite3_bind_int(insert_, 8, e.id_derived ? 1 : 0);
      if (sqlite3_step(insert_) != SQLITE_DONE)
        fail("append");
      if (sqlite3_changes(db_) == 0) {
        // The id is in the store already (or earlier in this batch).
        auto seq = find(e.id);
        if (!seq)
          fail("append: id ignored but not found");
        result.outcomes.push_back({e.id, *seq, true});
        continue;
      }
      e.seq = ++head;
      e.timestamp = timestamp;
      result.outcomes.push_back({e.id, e.seq, false});
      stored.push_back(std::move(e));
    }
    exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw; // nothing of the batch is acknowledged
  }
  head_ = head;
  if (!stored.empty())
    result.appended = event_batch::of(std::move(stored));
  return result;
}

} // namespace bus
