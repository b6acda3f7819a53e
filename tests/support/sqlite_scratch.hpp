#pragma once

// A scratch directory holding one SQLite file, removed when the test ends,
// and raw SQL on that file through a connection of its own (what an
// operator with the sqlite3 shell would do): to inject failures with
// triggers, to write old layouts, and to read what the stores wrote.

#include <cstdint>
#include <string>

#include <boost/test/unit_test.hpp>
#include <sqlite3.h>

#include "support/scratch_dir.hpp"

namespace bus::test {

/// Returns the single text value `query` selects from the database at
/// `path`, or "<none>".
inline std::string select_text(const std::string& path, const std::string& query) {
  sqlite3* db = nullptr;
  BOOST_REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  std::string result = "<none>";
  if (sqlite3_prepare_v2(db, query.c_str(), -1, &stmt, nullptr) == SQLITE_OK
      && sqlite3_step(stmt) == SQLITE_ROW) {
    // All of it: a blob of record rows holds bytes 0.
    auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    result = text ? std::string(text,
                                static_cast<std::size_t>(sqlite3_column_bytes(stmt, 0)))
                  : "<null>";
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return result;
}

/// Runs `text` on the database at `path`, beside any connection the code
/// under test holds, as an operator's sqlite3 shell would.
inline void exec_sql(const std::string& path, const std::string& text) {
  sqlite3* db = nullptr;
  BOOST_REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  char* message = nullptr;
  auto rc = sqlite3_exec(db, text.c_str(), nullptr, nullptr, &message);
  std::string why = message ? message : "";
  sqlite3_free(message);
  sqlite3_close(db);
  BOOST_REQUIRE_MESSAGE(rc == SQLITE_OK, text << ": " << why);
}

/// The head the log file at `path` holds, read past any open log (which
/// holds the store's lock: a second log cannot open it meanwhile).
inline std::uint64_t head_in_file(const std::string& path) {
  return std::stoull(
    select_text(path, "SELECT coalesce(max(first_seq + count - 1), 0) FROM batches"));
}

struct sqlite_scratch : scratch_dir {
  std::string path;

  explicit sqlite_scratch(const std::string& prefix = "bus-sqlite-test-",
                          const std::string& name = "models.db")
    : scratch_dir(prefix), path(file(name)) {
    // nop
  }

  /// Runs `text` on the database.
  void sql(const std::string& text) const { exec_sql(path, text); }

  /// Returns the single text value `query` selects, or "<none>".
  std::string select(const std::string& query) const {
    return select_text(path, query);
  }
};

} // namespace bus::test
