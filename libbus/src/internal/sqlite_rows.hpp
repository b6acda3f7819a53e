#pragma once

// What the durable log's sources share (sqlite_log.cpp and
// sqlite_log_open.cpp): statement guards, column access, the layout, and
// the builder of its rows. The helpers every SQLite store shares are in
// sqlite_statement.hpp.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include <sqlite3.h>

#include "bus/string_keys.hpp"
#include "event_record.hpp"
#include "sqlite_statement.hpp"

namespace bus::internal {

// The layout this release writes (PRAGMA user_version). 5 is the layout
// with a row per id in the id table (`ids`), 4 the layout
// whose id table held every id (no `id_index`), 3 the layout
// with the id table keyed by the id alone, 2 the one without the id table,
// 0 with an `events` table the one of the first releases (one row per
// event).
constexpr int log_layout_version = 6;

// A row holds at most this many events or about this many bytes: small
// enough that reading one event loads little, large enough that SQLite's
// per-row cost vanishes.
constexpr std::uint32_t row_max_events = 512;
constexpr std::size_t row_max_bytes = 48 << 10;

/// Resets a prepared statement when leaving a scope, whatever happens.
struct reset_on_exit {
  sqlite3_stmt* stmt;
  ~reset_on_exit() {
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
  }
};

/// A read transaction begun on demand and ended at the latest at scope
/// exit, so that several lookups see one snapshot and take one lock.
class read_transaction {
public:
  explicit read_transaction(sqlite3* db) : db_(db) {
    // nop
  }

  read_transaction(const read_transaction&) = delete;
  read_transaction& operator=(const read_transaction&) = delete;

  ~read_transaction() { end(); }

  /// Begins the transaction unless it is open; without one, each lookup
  /// runs in a transaction of its own, which is only slower.
  void begin() noexcept {
    if (!open_)
      open_ = sqlite3_exec(db_, "BEGIN", nullptr, nullptr, nullptr) == SQLITE_OK;
  }

  /// Ends the transaction if it is open (it wrote nothing: nothing to lose).
  void end() noexcept {
    if (open_ && sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK)
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    open_ = false;
  }

private:
  sqlite3* db_;
  bool open_ = false;
};

using sqlite::statement;

/// Orders ids as the id table's key does: by size in bytes, then bytes.
inline bool id_key_less(std::string_view x, std::string_view y) noexcept {
  return x.size() != y.size() ? x.size() < y.size() : x < y;
}

using sqlite::column_view;

inline std::string_view column_blob(sqlite3_stmt* stmt, int index) {
  auto* data = static_cast<const char*>(sqlite3_column_blob(stmt, index));
  return {data ? data : "",
          static_cast<std::size_t>(sqlite3_column_bytes(stmt, index))};
}

/// The hash under which the logs index and filter ids.
inline std::uint64_t hash_id(std::string_view id) {
  return hash_string(id);
}

/// Collects consecutive events into rows and hands each full row to `write`.
class row_builder {
public:
  using writer = std::function<void(std::uint64_t, std::uint32_t, const std::string&)>;

  explicit row_builder(writer write) : write_(std::move(write)) {
    // nop
  }

  void add(const event& e) {
    if (count_ == 0)
      first_ = e.seq;
    encode_event(e, blob_);
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
  writer write_;
  std::string blob_;
  std::uint64_t first_ = 0;
  std::uint32_t count_ = 0;
};

} // namespace bus::internal
