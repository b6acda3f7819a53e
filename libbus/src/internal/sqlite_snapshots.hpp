#pragma once

// The SQLite backend of snapshot_store (snapshot_store.hpp has the schema
// and the semantics): its class and the statement helpers its two sources
// share (sqlite_snapshots.cpp reads and writes, sqlite_snapshots_open.cpp
// opens and migrates).

#include <sqlite3.h>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bus/errc.hpp"
#include "snapshot_backend.hpp"
#include "sqlite_statement.hpp"

namespace bus::internal {

// Apart from the log's helpers (sqlite_rows.hpp); the statement helpers
// are the ones every SQLite store shares (sqlite_statement.hpp).
namespace snapshot_sql {

inline caf::error sqlite_error(sqlite3* db, const std::string& what) {
  return make_error(errc::storage_failed,
                    "snapshots: " + what + ": "
                      + (db ? sqlite3_errmsg(db) : "no database"));
}

using sqlite::bind_text;
using sqlite::column_text;
using sqlite::statement;
using sqlite::transaction;

} // namespace snapshot_sql

class sqlite_snapshots final : public snapshot_store::backend {
public:
  /// Takes `db`; its writes take turns on `turn` (write_turns.hpp).
  sqlite_snapshots(sqlite3* db, std::shared_ptr<std::mutex> turn)
    : db_(db), turn_(std::move(turn)) {
    // nop
  }

  ~sqlite_snapshots() override { sqlite3_close_v2(db_); }

  caf::expected<snapshot_claim> claim(const std::string& model) override;
  caf::expected<std::optional<snapshot>> load(const std::string& model) override;
  caf::expected<save_outcome> save(const std::string& model, const snapshot& x,
                                   std::uint64_t generation, rows_write how) override;
  caf::expected<rows_sizes> sizes_of(const std::string& model) override;
  caf::expected<save_outcome> compact(const std::string& model,
                                      std::uint64_t generation,
                                      const std::atomic<bool>* cancelled) override;

private:
  // The rows of one model, read into one buffer: the parts one after the
  // other, which is the snapshot's rows text.
  struct rows_text {
    std::string bytes;
    /// Each part's size, in order. Sizes, not views: a short text lives
    /// inside the string, and a move would leave views behind.
    std::vector<std::size_t> sizes;

    /// Each part, in order, within `bytes`.
    std::vector<std::string_view> parts() const;
  };

  caf::error exec(const char* sql, const std::string& what);
  caf::expected<bool> owns(const std::string& model, std::uint64_t generation);
  caf::expected<std::optional<snapshot>> read(const std::string& model);
  caf::expected<rows_text> read_parts(const std::string& model);
  caf::expected<bool> has_rows(const std::string& model);
  caf::expected<rows_sizes*> cached_sizes(const std::string& model);
  caf::error write_row(const std::string& model, const snapshot& x);
  caf::error write_part(const std::string& model, std::int64_t part,
                        const std::string& rows);
  caf::error drop_parts(const std::string& model);

  sqlite3* db_;
  std::shared_ptr<std::mutex> turn_;
  std::map<std::string, rows_sizes> sizes_;
};

} // namespace bus::internal
