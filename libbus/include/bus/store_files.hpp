#pragma once

// The files beside a SQLite store (`PATH.snapshots`, `PATH.models`,
// `PATH.lifecycle`), checked when a node starts. A damaged one would
// otherwise fail each model as it first opens it, one by one and for good,
// while the node runs on and reports the models failed: better to refuse
// to start, naming the file. A node that keeps them without a log beside
// them (bus-projector --store) holds the store's lock for them, as an open
// log does (sqlite_log.hpp): one node at a time writes them.

#include <memory>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

namespace bus {

namespace internal {

class store_lock;

} // namespace internal

/// Returns an errc::storage_failed naming the first file of `paths` that
/// exists and is not a SQLite database (or cannot be read), or that this
/// process may not write (not damaged), and what to do about it, or that
/// another process holds it locked (in use, not damaged); none when all
/// are usable. A missing file is fine: it is made
/// when first used.
caf::error check_store_files(const std::vector<std::string>& paths);

/// The lock on `PATH.lock` of a store whose files a node keeps without
/// opening a log there (bus-projector --store), held until destroyed. Not
/// thread-safe.
class store_files_lock {
public:
  /// Takes the lock of the store at `store_path`. Returns an
  /// errc::storage_failed naming the store when another node holds it
  /// (and its pid when it recorded one), or when its lock file cannot be
  /// made (a missing directory, one this process may not write).
  static caf::expected<store_files_lock> take(const std::string& store_path);

  store_files_lock(store_files_lock&&) noexcept;
  store_files_lock& operator=(store_files_lock&&) noexcept;
  ~store_files_lock();

private:
  explicit store_files_lock(std::unique_ptr<internal::store_lock> lock);

  std::unique_ptr<internal::store_lock> lock_;
};

} // namespace bus
