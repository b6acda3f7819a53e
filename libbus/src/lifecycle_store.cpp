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
                      "KEY, paused_at INTEGER NOT NULL)"})
      if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK)
        return sqlite_error(db_, path);
    return caf::none;
  }

  caf::expected<std::vector<std::string>> paused() override {
    statement s;
    if (sqlite3_prepare_v2(db_, "SELECT model FROM paused_models ORDER BY model", -1,
                           &s.stmt, nullptr)
        != SQLITE_OK)
      return sqlite_error(db_, "paused");
    std::vector<std::string> result;
    int rc;
    while ((rc = sqlite3_step(s.stmt)) == SQLITE_ROW)
      result.push_back(column_text(s.stmt, 0));
    if (rc != SQLITE_DONE)
      return sqlite_error(db_, "paused");
    return result;
  }

  caf::error set_paused(const std::string& model, bool paused) override {
    statement s;
    auto sql
      = paused ? "INSERT OR REPLACE INTO paused_models (model, paused_at) VALUES (?,?)"
               : "DELETE FROM paused_models WHERE model = ?";
    if (sqlite3_prepare_v2(db_, sql, -1, &s.stmt, nullptr) != SQLITE_OK)
      return sqlite_error(db_, "set_paused");
    bind_text(s.stmt, 1, model);
    if (paused)
      sqlite3_bind_int64(s.stmt, 2, internal::paused_at_now());
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
  return backend_->paused();
}

caf::error lifecycle_store::set_paused(const std::string& model, bool paused) {
  return backend_->set_paused(model, paused);
}

} // namespace bus
