#pragma once

// A SQLite VFS that forwards everything to the default VFS and times every
// xSync, the fsyncs SQLite asks of the file system, into a histogram. It is
// the only place that sees an fsync by itself: a commit's time mixes the
// writes with it. Each owner registers its own instance (under a unique
// name, so that its histogram gets only its own files' syncs) and opens its
// connection with it; the histogram is written from the thread that uses
// the connection, as every other member of its owner.

#include <string>

#include <sqlite3.h>

#include "bus/latency_histogram.hpp"

namespace bus::internal {

class timed_vfs {
public:
  /// Registers the VFS (not as the default); syncs go into `fsyncs`, which
  /// must outlive it. Throws storage_error when SQLite refuses it.
  explicit timed_vfs(latency_histogram& fsyncs);

  /// Unregisters the VFS: close every connection that uses it first.
  ~timed_vfs();

  timed_vfs(const timed_vfs&) = delete;
  timed_vfs& operator=(const timed_vfs&) = delete;

  /// The name to open a connection with (sqlite3_open_v2's zVfs).
  const char* name() const noexcept { return name_.c_str(); }

  latency_histogram& fsyncs() noexcept { return *fsyncs_; }

  /// The VFS every call is forwarded to.
  sqlite3_vfs* real() const noexcept { return real_; }

private:
  std::string name_;
  sqlite3_vfs* real_;
  sqlite3_vfs vfs_;
  latency_histogram* fsyncs_;
};

} // namespace bus::internal
