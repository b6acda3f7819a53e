// The lifecycle store's front, which picks the storage from the location,
// and its SQLite backend.

#include "bus/lifecycle_store.hpp"

#include <chrono>

#include <sqlite3.h>

#include "bus/errc.hpp"
#include "bus/store_location.hpp"
#include "internal/lifecycle_backend.hpp"
#include "internal/sqlite_statement.hpp"

namespace bus {

namespace internal {

std::int64_t paused_at_now() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

} // namespace internal

namespace {

caf::error sqlite_error(sqlite3* db, const std::string& what) {
  return make_error(errc::storage_failed,
                    "lifecycle store: " + what + ": "
                      + (db ? sqlite3_errmsg(db) : "out of memory"));
}

using internal::sqlite::bind_text;
using internal::sqlite::column_text;
using internal::sqlite::statement;

class sqlite_lifecycle final : public lifecycle_store::backend {
public:
  ~sqlite_lifecycle() override { sqlite3_close_v2(db_); }

  caf::error open(const std::string& path) {
    if (sqlite3_open_v2(
          path.c_str(), &db_,
          SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr)
        != SQLITE_OK)
      return sqlite_error(db_, path + ": cannot open");
    sqlite3_busy_timeout(db_, 10000);
    for (auto* sql : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
                      "CREATE TABLE IF NOT EXISTS paused_models (model TEXT PRIMARY "
                      "KEY, paused_at INTEGER NOT NULL, frozen_at INTEGER)"})
      if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK)
        return sqlite_error(db_, path);
    return add_frozen_at(path);
  }

  // A store made before frozen_at was kept gets the column (NULL: where
  // those models were paused is not known).
  caf::error add_frozen_at(const std::string& path) {
    statement s;
    if (sqlite3_prepare_v2(db_,
                           "SELECT 1 FROM pragma_table_info('paused_models') "
                           "WHERE name = 'frozen_at'",
                           -1, &s.stmt, nullptr)
        != SQLITE_OK)
      return sqlite_error(db_, path);
    auto rc = sqlite3_step(s.stmt);
    if (rc == SQLITE_ROW)
      return caf::none;
    if (rc != SQLITE_DONE)
      return sqlite_error(db_, path);
    if (sqlite3_exec(db_, "ALTER TABLE paused_models ADD COLUMN frozen_at INTEGER",
                     nullptr, nullptr, nullptr)
        != SQLITE_OK)
      return sqlite_error(db_, path);
    return caf::none;
  }

  caf::expected<std::vector<paused_model>> pauses() override {
    statement s;
    if (sqlite3_prepare_v2(db_,
                           "SELECT model, frozen_at FROM paused_models ORDER BY model",
                           -1, &s.stmt, nullptr)
        != SQLITE_OK)
      return sqlite_error(db_, "paused");
    std::vector<paused_model> result;
    int rc;
    while ((rc = sqlite3_step(s.stmt)) == SQLITE_ROW) {
      auto& x = result.emplace_back();
      x.name = column_text(s.stmt, 0);
      if (sqlite3_column_type(s.stmt, 1) == SQLITE_INTEGER)
        x.frozen_at = static_cast<std::uint64_t>(sqlite3_column_int64(s.stmt, 1));
    }
    if (rc != SQLITE_DONE)
      return sqlite_error(db_, "paused");
    return result;
  }

  caf::error set_paused(const std::string& model, bool paused,
                        std::optional<std::uint64_t> frozen_at) override {
    statement s;
    auto sql = paused ? "INSERT OR REPLACE INTO paused_models (model, paused_at, "
                        "frozen_at) VALUES (?,?,?)"
                      : "DELETE FROM paused_models WHERE model = ?";
    if (sqlite3_prepare_v2(db_, sql, -1, &s.stmt, nullptr) != SQLITE_OK)
      return sqlite_error(db_, "set_paused");
    bind_text(s.stmt, 1, model);
    if (paused) {
      sqlite3_bind_int64(s.stmt, 2, internal::paused_at_now());
      if (frozen_at)
        sqlite3_bind_int64(s.stmt, 3, static_cast<sqlite3_int64>(*frozen_at));
      else
        sqlite3_bind_null(s.stmt, 3);
    }
    if (sqlite3_step(s.stmt) != SQLITE_DONE)
      return sqlite_error(db_, "set_paused");
    return caf::none;
  }

private:
  sqlite3* db_ = nullptr;
};

} // namespace

lifecycle_store::lifecycle_store(std::unique_ptr<backend> impl)
  : backend_(std::move(impl)) {
  // nop
}

lifecycle_store::~lifecycle_store() = default;

caf::expected<std::unique_ptr<lifecycle_store>>
lifecycle_store::open(const std::string& location) {
  std::unique_ptr<backend> impl;
  if (is_postgres_uri(location)) {
#ifdef BUS_HAS_POSTGRESQL
    auto opened = internal::open_postgres_lifecycle(location);
    if (!opened)
      return std::move(opened.error());
    impl = std::move(*opened);
#else
    return make_error(errc::storage_failed,
                      "lifecycle store: this build has no PostgreSQL support "
                      "(BUS_POSTGRESQL=OFF, or libpq not found): cannot open a "
                      "postgresql:// location");
#endif
  } else {
    auto sqlite = std::make_unique<sqlite_lifecycle>();
    if (auto err = sqlite->open(location))
      return err;
    impl = std::move(sqlite);
  }
  return std::unique_ptr<lifecycle_store>{new lifecycle_store(std::move(impl))};
}

caf::expected<std::vector<std::string>> lifecycle_store::paused() const {
  auto xs = backend_->pauses();
  if (!xs)
    return std::move(xs.error());
  std::vector<std::string> result;
  result.reserve(xs->size());
  for (auto& x : *xs)
    result.push_back(std::move(x.name));
  return result;
}

caf::expected<std::vector<paused_model>> lifecycle_store::pauses() const {
  return backend_->pauses();
}

caf::error lifecycle_store::set_paused(const std::string& model, bool paused,
                                       std::optional<std::uint64_t> frozen_at) {
  return backend_->set_paused(model, paused, paused ? frozen_at : std::nullopt);
}

} // namespace bus
