#pragma once

// An exclusive advisory lock (flock) on the file PATH.lock beside a SQLite
// log at PATH, held while the log is open so that the log has one writer:
// two logs appending to one file would each hand out the same seqs. A
// second open, in this process or another, is refused at once rather than
// waiting. The kernel drops the lock with the last descriptor of the file,
// so a process that dies, however it dies, leaves the store free. The log
// takes it, and so does a node that keeps the stores beside it
// (PATH.snapshots, PATH.models, PATH.lifecycle) without a log there
// (bus::store_files_lock); readers do not. Not thread-safe.

#include <string>

namespace bus::internal {

class store_lock {
public:
  /// Takes the lock of the store at `store_path`. Throws storage_error
  /// when the lock file cannot be opened, when this process may not create
  /// files in the store's directory (also when the lock file is there
  /// already), or when another open log holds it, naming its process when
  /// it recorded one.
  explicit store_lock(const std::string& store_path);

  ~store_lock();

  store_lock(const store_lock&) = delete;
  store_lock& operator=(const store_lock&) = delete;

private:
  int fd_ = -1;
};

} // namespace bus::internal
