#include "bus/store_files.hpp"

#include <filesystem>
#include <system_error>

#include <sqlite3.h>

#include "bus/errc.hpp"
#include "bus/event_log.hpp"
#include "internal/store_lock.hpp"

namespace bus {

namespace {

// Reads the schema: the first read of a file that is not a database fails
// ("file is not a database"), as every later statement of the stores would.
// Read-write: after a crash the first reader rolls back a hot journal,
// which a read-only connection cannot (it would refuse a sound file).
caf::error check_one(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    return caf::none;
  sqlite3* db = nullptr;
  auto rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr);
  if (rc == SQLITE_OK)
    rc = sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", nullptr, nullptr,
                      nullptr);
  std::string why = db ? sqlite3_errmsg(db) : "out of memory";
  // SQLite opens a file it may not write read-only, without a word: the
  // node would fail at its first write (a pause, a snapshot) instead.
  auto read_only = rc == SQLITE_OK && sqlite3_db_readonly(db, "main") == 1;
  sqlite3_close_v2(db);
  if (read_only)
    return make_error(errc::storage_failed,
                      path
                        + " cannot be written (it opens read-only): give the "
                          "node write access to it; the file is not damaged");
  if (rc == SQLITE_OK)
    return caf::none;
  // A writer holds it (a node still running on the store): the file may be
  // sound, and moving it aside would lose its snapshots and pauses.
  auto primary = rc & 0xff;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
    return make_error(errc::storage_failed,
                      path + " is in use by another process (" + why
                        + "): stop it, then start again; the file is not "
                          "damaged");
  return make_error(errc::storage_failed,
                    path + " is not a usable SQLite database (" + why
                      + "): move it aside to start afresh (snapshots and model "
                        "tables are rebuilt from the log; pauses kept there are "
                        "lost)");
}

} // namespace

caf::error check_store_files(const std::vector<std::string>& paths) {
  for (auto& path : paths)
    if (auto err = check_one(path))
      return err;
  return caf::none;
}

caf::expected<store_files_lock> store_files_lock::take(const std::string& store_path) {
  std::unique_ptr<internal::store_lock> lock;
  try {
    lock = std::make_unique<internal::store_lock>(store_path);
  } catch (const storage_error& ex) {
    // The words of sqlite_log::open's refusal, for the same store.
    return make_error(errc::storage_failed, store_path + ": " + ex.what());
  }
  return store_files_lock{std::move(lock)};
}

store_files_lock::store_files_lock(std::unique_ptr<internal::store_lock> lock)
  : lock_(std::move(lock)) {
  // nop
}

store_files_lock::store_files_lock(store_files_lock&&) noexcept = default;

store_files_lock& store_files_lock::operator=(store_files_lock&&) noexcept = default;

store_files_lock::~store_files_lock() = default;

} // namespace bus
