#include "bus/sqlite_log.hpp"

#include <algorithm>
#include <chrono>
#include <functional>

#include <boost/json/parse.hpp>
#include <sqlite3.h>

#include "bus/errc.hpp"
#include "internal/event_record.hpp"
#include "internal/id_index.hpp"
#include "internal/timed_vfs.hpp"

namespace bus {

namespace {

// The layout this release writes (PRAGMA user_version). 0 with an `events`
// table is the layout of earlier releases: one row per event.
constexpr int layout_version = 2;

constexpr const char* schema = R"sql(
CREATE TABLE IF NOT EXISTS batches (
  first_seq INTEGER PRIMARY KEY,
  count     INTEGER NOT NULL,
  events    BLOB    NOT NULL
);
PRAGMA user_version = 2;
)sql";

// A row holds at most this many events or about this many bytes: small
// enough that checking one id loads little, large enough that SQLite's
// per-row cost vanishes.
constexpr std::uint32_t row_max_events = 512;
constexpr std::size_t row_max_bytes = 48 << 10;

// Resets a prepared statement when leaving a scope, whatever happens.
struct reset_on_exit {
  sqlite3_stmt* stmt;
  ~reset_on_exit() {
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
  }
};

// A prepared statement finalized at scope exit.
struct statement {
  sqlite3_stmt* stmt = nullptr;
  ~statement() {
    sqlite3_finalize(stmt);
  }
};

std::uint64_t hash_id(std::string_view id) {
  return std::hash<std::string_view>{}(id);
}

std::string_view column_text(sqlite3_stmt* stmt, int index) {
  auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt, index));
  return {data ? data : "", static_cast<std::size_t>(sqlite3_column_bytes(stmt, index))};
}

std::string_view column_blob(sqlite3_stmt* stmt, int index) {
  auto* data = static_cast<const char*>(sqlite3_column_blob(stmt, index));
  return {data ? data : "", static_cast<std::size_t>(sqlite3_column_bytes(stmt, index))};
}

// Collects consecutive events into rows and hands each full row to `write`.
class row_builder {
public:
  explicit row_builder(std::function<void(std::uint64_t, std::uint32_t,
                                          const std::string&)>
                         write)
    : write_(std::move(write)) {
    // nop
  }

  void add(const event& e) {
    if (count_ == 0)
      first_ = e.seq;
    internal::encode_event(e, blob_);
    if (++count_ == row_max_events || blob_.size() >= row_max_bytes)
      flush();
  }

  void flush() {
    if (count_ == 0)
      return;
    write_(first_, count_, blob_);
    blob_.clear();
    count_ = 0;
  }

private:
  std::function<void(std::uint64_t, std::uint32_t, const std::string&)> write_;
  std::string blob_;
  std::uint64_t first_ = 0;
  std::uint32_t count_ = 0;
};

} // namespace

// -- durability -----------------------------------------------------------------

durability::durability(mode_type mode) noexcept
  : mode_(mode),
    interval_(mode == fsync_interval ? std::chrono::milliseconds{10}
                                     : std::chrono::milliseconds{0}) {
  // nop
}

durability durability::every(std::chrono::milliseconds interval) noexcept {
  durability result{fsync_interval};
  result.interval_ = std::max(interval, std::chrono::milliseconds{1});
  return result;
}

std::string to_string(durability x) {
  switch (x.mode()) {
    case durability::fsync_each_batch:
      return "fsync";
    case durability::os_buffered:
      return "os";
    default:
      return "interval:" + std::to_string(x.interval().count());
  }
}

caf::expected<durability> parse_durability(const std::string& text) {
  if (text == "fsync")
    return durability::fsync_each_batch;
  if (text == "os")
    return durability::os_buffered;
  constexpr std::string_view prefix = "interval:";
  if (text.compare(0, prefix.size(), prefix) == 0) {
    auto digits = text.substr(prefix.size());
    auto all_digits = !digits.empty() && digits.size() <= 5
                      && std::all_of(digits.begin(), digits.end(),
                                     [](char c) { return c >= '0' && c <= '9'; });
    auto ms = all_digits ? std::stol(digits) : 0;
    if (ms >= 1 && ms <= 60000)
      return durability::every(std::chrono::milliseconds{ms});
  }
  return make_error(errc::invalid_config,
                    "durability: expected \"fsync\", \"os\" or \"interval:N\" "
                    "(N: milliseconds, 1 to 60000), got \""
                      + text + "\"");
}

// -- opening ----------------------------------------------------------------------

sqlite_log::sqlite_log(std::string path, durability policy)
  : path_(std::move(path)),
    policy_(policy),
    ids_(std::make_unique<internal::id_index>()) {
  timings_.measured = true;
}

caf::expected<std::shared_ptr<sqlite_log>>
sqlite_log::open(const std::string& path, durability policy) {
  std::shared_ptr<sqlite_log> log{new sqlite_log(path, policy)};
  try {
    log->vfs_ = std::make_unique<internal::timed_vfs>(log->timings_.fsync);
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
  if (version > layout_version)
    throw storage_error("the store has layout " + std::to_string(version)
                        + ", written by a newer release (this one reads "
                          "layouts up to "
                        + std::to_string(layout_version) + ")");
  if (old_layout && version == 0)
    migrate_old_layout();
  else
    exec(schema);
  auto prepare = [&](const char* sql, sqlite3_stmt** stmt) {
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt, nullptr)
        != SQLITE_OK)
      fail("prepare");
  };
  prepare("INSERT INTO batches (first_seq, count, events) VALUES (?, ?, ?)",
          &insert_);
  // From the row holding seq ?1 on.
  prepare("SELECT first_seq, count, events FROM batches WHERE first_seq >= "
          "(SELECT first_seq FROM batches WHERE first_seq <= ?1 "
          "ORDER BY first_seq DESC LIMIT 1) ORDER BY first_seq",
          &read_);
}

void sqlite_log::load() {
  // Rebuilds the id index and finds the head; checks that the rows are
  // dense, so that a damaged store is refused rather than served with gaps.
  statement st;
  if (sqlite3_prepare_v2(db_, "SELECT first_seq, count, events FROM batches "
                              "ORDER BY first_seq",
                         -1, &st.stmt, nullptr)
      != SQLITE_OK)
    fail("load");
  {
    // The index is sized by the head the last row claims, but never beyond
    // what the file can hold (a record takes at least 8 bytes): a damaged
    // row's count looped here or threw std::bad_alloc.
    statement last;
    if (sqlite3_prepare_v2(db_, "SELECT first_seq + count, (SELECT page_count "
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
        ids_->reserve(static_cast<std::size_t>(std::min(claimed, bound)));
    }
  }
  std::uint64_t next = 1;
  int rc;
  while ((rc = sqlite3_step(st.stmt)) == SQLITE_ROW) {
    auto first = static_cast<std::uint64_t>(sqlite3_column_int64(st.stmt, 0));
    auto count = static_cast<std::uint64_t>(sqlite3_column_int64(st.stmt, 1));
    if (first != next)
      throw storage_error("corrupt store: expected a row at seq "
                          + std::to_string(next) + ", found "
                          + std::to_string(first));
    auto blob = column_blob(st.stmt, 2);
    internal::record_cursor records{blob.data(), blob.size()};
    auto whole = true;
    try {
      for (std::uint64_t i = 0; i < count; ++i)
        ids_->insert_new(hash_id(internal::record_id(records.next())), first + i);
      whole = records.at_end();
    } catch (const storage_error&) {
      whole = false;
    }
    if (!whole)
      throw storage_error("corrupt store: the row at seq " + std::to_string(first)
                          + " does not hold its " + std::to_string(count)
                          + " events");
    next = first + count;
  }
  if (rc != SQLITE_DONE)
    fail("load");
  head_ = durable_head_ = next - 1;
}

void sqlite_log::migrate_old_layout() {
  // One transaction: a crash during it leaves the old layout untouched.
  exec("BEGIN IMMEDIATE");
  try {
    exec(schema);
    row_builder rows{[this](std::uint64_t first, std::uint32_t count,
                            const std::string& blob) {
      statement insert;
      if (sqlite3_prepare_v2(db_,
                             "INSERT INTO batches (first_seq, count, events) "
                             "VALUES (?, ?, ?)",
                             -1, &insert.stmt, nullptr)
          != SQLITE_OK)
        fail("migrate");
      sqlite3_bind_int64(insert.stmt, 1, static_cast<sqlite3_int64>(first));
      sqlite3_bind_int64(insert.stmt, 2, count);
      sqlite3_bind_blob(insert.stmt, 3, blob.data(), static_cast<int>(blob.size()),
                        SQLITE_STATIC);
      if (sqlite3_step(insert.stmt) != SQLITE_DONE)
        fail("migrate");
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
      e.id = column_text(old.stmt, 1);
      e.type = column_text(old.stmt, 2);
      boost::system::error_code ec;
      auto payload = boost::json::parse(column_text(old.stmt, 3), ec);
      auto metadata = boost::json::parse(column_text(old.stmt, 6), ec);
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
    exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

sqlite_log::~sqlite_log() {
  // Events appended since the last sync were never acknowledged: they go.
  for (auto* stmt : {insert_, read_})
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

// -- reading ----------------------------------------------------------------------

std::string_view sqlite_log::id_at(std::uint64_t seq) const {
  if (seq > durable_head_) {
    auto i = std::upper_bound(pending_.begin(), pending_.end(), seq,
                              [](std::uint64_t x, const chunk& c) {
                                return x < c.first_seq;
                              });
    --i;
    return (*i->events)[seq - i->first_seq].id;
  }
  auto& c = cache_;
  if (seq < c.first_seq || seq >= c.first_seq + c.offsets.size()) {
    c = cached_row{};
    reset_on_exit guard{read_};
    sqlite3_bind_int64(read_, 1, static_cast<sqlite3_int64>(seq));
    if (sqlite3_step(read_) != SQLITE_ROW)
      fail("find");
    auto blob = column_blob(read_, 2);
    c.blob.assign(blob.data(), blob.size());
    internal::record_cursor records{c.blob.data(), c.blob.size()};
    auto count = sqlite3_column_int64(read_, 1);
    for (sqlite3_int64 i = 0; i < count; ++i) {
      auto body = records.next();
      c.offsets.push_back(static_cast<std::uint32_t>(body.data() - c.blob.data()));
    }
    c.first_seq = static_cast<std::uint64_t>(sqlite3_column_int64(read_, 0));
    if (seq < c.first_seq || seq >= c.first_seq + c.offsets.size()) {
      c = cached_row{};
      throw storage_error("sqlite: find: no row holds seq " + std::to_string(seq));
    }
  }
  // The offsets point at bodies: the id is their first field.
  auto off = c.offsets[seq - c.first_seq];
  return internal::record_id(
    std::string_view{c.blob.data() + off, c.blob.size() - off});
}

std::optional<std::uint64_t> sqlite_log::find(std::string_view id) const {
  auto seq = ids_->find(hash_id(id), [&](std::uint64_t s) { return id_at(s) == id; });
  if (seq == 0)
    return std::nullopt;
  return seq;
}

event_batch sqlite_log::read(std::uint64_t from, std::size_t max) const {
  if (from == 0 || from > head_ || max == 0)
    return {};
  if (from > durable_head_) {
    auto i = std::upper_bound(pending_.begin(), pending_.end(), from,
                              [](std::uint64_t x, const chunk& c) {
                                return x < c.first_seq;
                              });
    --i;
    auto first = static_cast<std::size_t>(from - i->first_seq);
    auto last = std::min(i->events->size(), first + max);
    return event_batch{i->events, first, last};
  }
  // Stops at the durable head: pending events come from their own chunks.
  max = static_cast<std::size_t>(std::min<std::uint64_t>(max, durable_head_ - from + 1));
  reset_on_exit guard{read_};
  sqlite3_bind_int64(read_, 1, static_cast<sqlite3_int64>(from));
  std::vector<event> events;
  events.reserve(max);
  while (events.size() < max) {
    auto rc = sqlite3_step(read_);
    if (rc == SQLITE_DONE)
      break;
    if (rc != SQLITE_ROW)
      fail("read");
    auto seq = static_cast<std::uint64_t>(sqlite3_column_int64(read_, 0));
    auto count = static_cast<std::uint64_t>(sqlite3_column_int64(read_, 1));
    auto blob = column_blob(read_, 2);
    internal::record_cursor records{blob.data(), blob.size()};
    for (auto end = seq + count; seq < end && events.size() < max; ++seq) {
      std::string_view body;
      try {
        body = records.next();
      } catch (const storage_error&) {
        throw storage_error("sqlite: the row of seq " + std::to_string(seq)
                            + " is corrupt");
      }
      if (seq >= from)
        internal::decode_event(body, seq, events.emplace_back());
    }
  }
  return event_batch::of(std::move(events));
}

// -- appending --------------------------------------------------------------------

append_result sqlite_log::do_append(std::vector<event> batch) {
  append_result result;
  result.outcomes.reserve(batch.size());
  auto now = now_ns();
  std::vector<event> stored;
  stored.reserve(batch.size());
  auto first_new = head_ + 1;
  auto head = head_;
  try {
    for (auto& e : batch) {
      // Events of this batch are not in pending_ yet: look them up in stored.
      auto same = [&](std::uint64_t seq) {
        return seq >= first_new ? stored[seq - first_new].id == e.id
                                : id_at(seq) == e.id;
      };
      if (auto seq = ids_->insert(hash_id(e.id), head + 1, same); seq != 0) {
        result.outcomes.push_back({e.id, seq, true});
        continue;
      }
      e.seq = ++head;
      if (e.timestamp == 0)
        e.timestamp = now;
      result.outcomes.push_back({e.id, e.seq, false});
      stored.push_back(std::move(e));
    }
  } catch (...) {
    ids_->erase_above(head_); // nothing of the batch was appended
    throw;
  }
  if (!stored.empty()) {
    auto events = std::make_shared<const std::vector<event>>(std::move(stored));
    pending_.push_back({first_new, events});
    head_ = head;
    result.appended = event_batch{std::move(events)};
  }
  if (policy_.mode() != durability::fsync_interval)
    sync(); // throws having dropped the batch: nothing of it is acknowledged
  return result;
}

void sqlite_log::drop_pending() noexcept {
  if (pending_.empty())
    return;
  pending_.clear();
  head_ = durable_head_;
  ids_->erase_above(durable_head_);
}

void sqlite_log::sync() {
  if (pending_.empty())
    return;
  auto start = std::chrono::steady_clock::now();
  try {
    exec("BEGIN IMMEDIATE");
    row_builder rows{[this](std::uint64_t first, std::uint32_t count,
                            const std::string& blob) {
      reset_on_exit guard{insert_};
      sqlite3_bind_int64(insert_, 1, static_cast<sqlite3_int64>(first));
      sqlite3_bind_int64(insert_, 2, count);
      sqlite3_bind_blob(insert_, 3, blob.data(), static_cast<int>(blob.size()),
                        SQLITE_STATIC);
      if (sqlite3_step(insert_) != SQLITE_DONE)
        fail("append");
    }};
    for (auto& c : pending_)
      for (auto& e : *c.events)
        rows.add(e);
    rows.flush();
    exec("COMMIT");
  } catch (const storage_error& ex) {
    if (sqlite3_get_autocommit(db_) == 0)
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    auto lost = head_ - durable_head_;
    drop_pending();
    throw storage_error(path_ + ": " + ex.what() + " (the "
                        + std::to_string(lost)
                        + " events appended since the last sync were not stored)");
  }
  timings_.commit.observe(std::chrono::steady_clock::now() - start);
  durable_head_ = head_;
  pending_.clear();
}

} // namespace bus
