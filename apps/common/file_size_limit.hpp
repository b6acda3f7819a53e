#pragma once

// A write past the process's file-size limit (RLIMIT_FSIZE, as `ulimit -f`
// sets) raises SIGXFSZ, whose default ends the process on the spot, without
// a word and without answering what it read. The apps that write a store
// ignore it: the write then fails with EFBIG, which SQLite reports as a
// failed write, and the node answers as for any failed store
// (docs/operations.md, "The store failed"). Call once at the start of main.

#include <csignal>

namespace bus::app {

/// Makes writes past the file-size limit fail (EFBIG) instead of killing
/// the process with SIGXFSZ.
inline void fail_writes_past_file_size_limit() {
  std::signal(SIGXFSZ, SIG_IGN);
}

} // namespace bus::app
