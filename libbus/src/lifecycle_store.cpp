#include "bus/lifecycle_store.hpp"

#include <chrono>

#include <sqlite3.h>

#include "bus/errc.hpp"

namespace bus {

namespace {

caf::error sqlite_error(sqlite3* db, const std::string& what) {
  return make_error(errc::storage_failed,
                    "lifecycle store: " + what + ": "
                      + (db ? sqlite3_errmsg(db) : "out of memory"));
}

// Finalizes its statement on every path out.
struct statement {
  sqlite3_stmt* stmt = nullptr;
  ~statement() { sqlite3_finalize(stmt); }
};

} // namespace

caf::expected<std::unique_ptr<lifecycle_store>>
lifecycle_store::open(const std::string& path) {
  std::unique_ptr<lifecycle_store> store{new lifecycle_store};
  if (sqlite3_open_v2(path.c_str(), &store->db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr)
      != SQLITE_OK)
    return sqlite_error(store->db_, path + ": cannot open");
  sqlite3_busy_timeout(store->db_, 10000);
  for (auto* sql : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
                    "CREATE TABLE IF NOT EXISTS paused_models (model TEXT PRIMARY KEY, "
                    "paused_at INTEGER NOT NULL)"})
    if (sqlite3_exec(store->db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK)
      return sqlite_error(store->db_, path);
  return store;
}

lifecycle_store::~lifecycle_store() {
  sqlite3_close_v2(db_);
}

caf::expected<std::vector<std::string>> lifecycle_store::paused() const {
  statement s;
  if (sqlite3_prepare_v2(db_, "SELECT model FROM paused_models ORDER BY model", -1,
                         &s.stmt, nullptr)
      != SQLITE_OK)
    return sqlite_error(db_, "paused");
  std::vector<std::string> result;
  int rc;
  while ((rc = sqlite3_step(s.stmt)) == SQLITE_ROW) {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s.stmt, 0));
    result.emplace_back(p ? p : "",
                        static_cast<std::size_t>(sqlite3_column_bytes(s.stmt, 0)));
  }
  if (rc != SQLITE_DONE)
    return sqlite_error(db_, "paused");
  return result;
}

caf::error lifecycle_store::set_paused(const std::string& model, bool paused) {
  statement s;
  auto sql = paused
               ? "INSERT OR REPLACE INTO paused_models (model, paused_at) VALUES (?,?)"
               : "DELETE FROM paused_models WHERE model = ?";
  if (sqlite3_prepare_v2(db_, sql, -1, &s.stmt, nullptr) != SQLITE_OK)
    return sqlite_error(db_, "set_paused");
  sqlite3_bind_text(s.stmt, 1, model.data(), static_cast<int>(model.size()),
                    SQLITE_STATIC);
  if (paused) {
    using namespace std::chrono;
    auto now = duration_cast<milliseconds>(system_clock::now().time_since_epoch());
    sqlite3_bind_int64(s.stmt, 2, static_cast<sqlite3_int64>(now.count()));
  }
  if (sqlite3_step(s.stmt) != SQLITE_DONE)
    return sqlite_error(db_, "set_paused");
  return caf::none;
}

} // namespace bus
