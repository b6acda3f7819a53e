// The lifecycle store's front, which picks the storage from the location,
// and its SQLite backend.

#include "bus/lifecycle_store.hpp"

#include <chrono>
#include <cstdint>

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

caf::expected<kept_partition> kept_partition_of(const partition_intent_row& row,
                                                const std::string& where) {
  auto fail = [&](const std::string& why) {
    return make_error(errc::storage_failed,
                      "lifecycle store: " + where + ": the intent kept of partition "
                        + std::to_string(row.partition_index) + " of read model '"
                        + row.model + "' " + why
                        + "; delete the row, and pause the model again if need be");
  };
  auto intent = kept_intent_from_string(row.intent);
  if (!intent)
    return fail("is '" + row.intent + "', neither 'run' nor 'pause'");
  if (row.partition_count < 1 || row.partition_count > std::int64_t{UINT32_MAX})
    return fail("names " + std::to_string(row.partition_count) + " partitions");
  if (row.partition_index < 0 || row.partition_index >= row.partition_count)
    return fail("is not one of its " + std::to_string(row.partition_count)
                + " partitions");
  if (row.frozen_at && *row.frozen_at < 0)
    return fail("is frozen at seq " + std::to_string(*row.frozen_at));
  kept_partition result;
  result.model = row.model;
  result.partition = static_cast<std::uint32_t>(row.partition_index);
  result.partitions = static_cast<std::uint32_t>(row.partition_count);
  result.intent = *intent;
  // A run holds no frozen state, whatever the row says.
  if (row.frozen_at && *intent == kept_intent::pause)
    result.frozen_at = static_cast<std::uint64_t>(*row.frozen_at);
  return result;
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
    // A store made before partition_intents gets the table here.
    for (auto* sql : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
                      "CREATE TABLE IF NOT EXISTS paused_models (model TEXT PRIMARY "
                      "KEY, paused_at INTEGER NOT NULL, frozen_at INTEGER)",
                      "CREATE TABLE IF NOT EXISTS partition_intents (model TEXT NOT "
                      "NULL, partition_index INTEGER NOT NULL, partition_count "
                      "INTEGER NOT NULL, intent TEXT NOT NULL, frozen_at INTEGER, "
                      "kept_at INTEGER NOT NULL, PRIMARY KEY (model, "
                      "partition_index))"})
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

  caf::expected<std::vector<kept_partition>> partition_intents() override {
    statement s;
    if (sqlite3_prepare_v2(db_,
                           "SELECT model, partition_index, partition_count, intent, "
                           "frozen_at FROM partition_intents ORDER BY model, "
                           "partition_index",
                           -1, &s.stmt, nullptr)
        != SQLITE_OK)
      return sqlite_error(db_, "partition_intents");
    std::vector<kept_partition> result;
    int rc;
    while ((rc = sqlite3_step(s.stmt)) == SQLITE_ROW) {
      internal::partition_intent_row row;
      row.model = column_text(s.stmt, 0);
      // SQLite keeps whatever a column was given: a value of another type
      // is a damaged row, not a zero.
      if (sqlite3_column_type(s.stmt, 1) != SQLITE_INTEGER
          || sqlite3_column_type(s.stmt, 2) != SQLITE_INTEGER
          || sqlite3_column_type(s.stmt, 3) != SQLITE_TEXT
          || (sqlite3_column_type(s.stmt, 4) != SQLITE_INTEGER
              && sqlite3_column_type(s.stmt, 4) != SQLITE_NULL))
        return make_error(errc::storage_failed,
                          "lifecycle store: partition_intents: a row of read model '"
                            + row.model
                            + "' holds a value of the wrong type; delete the row, "
                              "and pause the model again if need be");
      row.partition_index = sqlite3_column_int64(s.stmt, 1);
      row.partition_count = sqlite3_column_int64(s.stmt, 2);
      row.intent = column_text(s.stmt, 3);
      if (sqlite3_column_type(s.stmt, 4) == SQLITE_INTEGER)
        row.frozen_at = sqlite3_column_int64(s.stmt, 4);
      auto kept = internal::kept_partition_of(row, "partition_intents");
      if (!kept)
        return std::move(kept.error());
      result.push_back(std::move(*kept));
    }
    if (rc != SQLITE_DONE)
      return sqlite_error(db_, "partition_intents");
    return result;
  }

  caf::error keep_partition_intent(const kept_partition& x) override {
    statement s;
    if (sqlite3_prepare_v2(db_,
                           "INSERT OR REPLACE INTO partition_intents (model, "
                           "partition_index, partition_count, intent, frozen_at, "
                           "kept_at) VALUES (?,?,?,?,?,?)",
                           -1, &s.stmt, nullptr)
        != SQLITE_OK)
      return sqlite_error(db_, "keep_partition_intent");
    bind_text(s.stmt, 1, x.model);
    sqlite3_bind_int64(s.stmt, 2, x.partition);
    sqlite3_bind_int64(s.stmt, 3, x.partitions);
    bind_text(s.stmt, 4, to_string(x.intent));
    if (x.frozen_at)
      sqlite3_bind_int64(s.stmt, 5, static_cast<sqlite3_int64>(*x.frozen_at));
    else
      sqlite3_bind_null(s.stmt, 5);
    sqlite3_bind_int64(s.stmt, 6, internal::paused_at_now());
    if (sqlite3_step(s.stmt) != SQLITE_DONE)
      return sqlite_error(db_, "keep_partition_intent");
    return caf::none;
  }

  caf::error forget_partition_intents(const std::string& model) override {
    statement s;
    if (sqlite3_prepare_v2(db_, "DELETE FROM partition_intents WHERE model = ?", -1,
                           &s.stmt, nullptr)
        != SQLITE_OK)
      return sqlite_error(db_, "forget_partition_intents");
    bind_text(s.stmt, 1, model);
    if (sqlite3_step(s.stmt) != SQLITE_DONE)
      return sqlite_error(db_, "forget_partition_intents");
    return caf::none;
  }

  bool fenced() const noexcept override { return false; }

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
lifecycle_store::open(const std::string& location,
                      std::optional<postgres_fence> fence) {
  std::unique_ptr<backend> impl;
  if (is_postgres_uri(location)) {
#ifdef BUS_HAS_POSTGRESQL
    auto opened = internal::open_postgres_lifecycle(location, std::move(fence));
    if (!opened)
      return std::move(opened.error());
    impl = std::move(*opened);
#else
    return make_error(errc::storage_failed,
                      "lifecycle store: this build has no PostgreSQL support "
                      "(BUS_POSTGRESQL=OFF, or libpq not found): cannot open a "
                      "postgresql:// location");
#endif
  } else if (fence) {
    return make_error(errc::invalid_config,
                      "lifecycle store: " + location + ": a fence (the lease '"
                        + fence->name + "') holds only in a PostgreSQL database");
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

caf::expected<std::vector<kept_partition>> lifecycle_store::partition_intents() const {
  return backend_->partition_intents();
}

caf::error lifecycle_store::keep_partition_intent(const kept_partition& x) {
  if (x.intent == kept_intent::pause || !x.frozen_at)
    return backend_->keep_partition_intent(x);
  auto run = x; // a run holds no frozen state
  run.frozen_at = std::nullopt;
  return backend_->keep_partition_intent(run);
}

caf::error lifecycle_store::forget_partition_intents(const std::string& model) {
  return backend_->forget_partition_intents(model);
}

bool lifecycle_store::fenced() const noexcept {
  return backend_->fenced();
}

const char* to_string(kept_intent x) noexcept {
  switch (x) {
    case kept_intent::run:
      return "run";
    case kept_intent::pause:
      return "pause";
  }
  return "run";
}

std::optional<kept_intent> kept_intent_from_string(std::string_view x) noexcept {
  if (x == "run")
    return kept_intent::run;
  if (x == "pause")
    return kept_intent::pause;
  return std::nullopt;
}

} // namespace bus
