#pragma once

// The SQLite statement helpers every SQLite store shares (the log, the
// snapshot store, the model tables): scope guards for a prepared statement
// and an open transaction, and text in and out of a statement.

#include <cstddef>
#include <string>
#include <string_view>

#include <sqlite3.h>

namespace bus::internal::sqlite {

/// A prepared statement finalized at scope exit.
struct statement {
  sqlite3_stmt* stmt = nullptr;
  ~statement() { sqlite3_finalize(stmt); }
};

/// Rolls an open transaction back at scope exit unless it was committed
/// (`done` set after its COMMIT).
struct transaction {
  sqlite3* db;
  bool done = false;
  ~transaction() {
    if (!done)
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
  }
};

/// Returns column `i` of the current row as a view, valid until the
/// statement steps or is reset.
inline std::string_view column_view(sqlite3_stmt* stmt, int i) {
  auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
  return {data ? data : "", static_cast<std::size_t>(sqlite3_column_bytes(stmt, i))};
}

/// Returns column `i` of the current row as a copy.
inline std::string column_text(sqlite3_stmt* stmt, int i) {
  return std::string{column_view(stmt, i)};
}

/// Binds `x` to parameter `i`; `x` must outlive the statement's next step.
inline void bind_text(sqlite3_stmt* stmt, int i, std::string_view x) {
  // An empty view may point nowhere, which SQLite would bind as NULL.
  sqlite3_bind_text(stmt, i, x.empty() ? "" : x.data(), static_cast<int>(x.size()),
                    SQLITE_STATIC);
}

} // namespace bus::internal::sqlite
