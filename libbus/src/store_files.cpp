#include "bus/store_files.hpp"

#include <filesystem>
#include <system_error>

#include <sqlite3.h>

#include "bus/errc.hpp"

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
  sqlite3_close_v2(db);
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

} // namespace bus
