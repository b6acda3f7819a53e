#pragma once

// One write transaction at a time per SQLite file among the connections of
// this process. Several read models' snapshot writers share one file, each
// on a connection of its own; left to SQLite's busy handler, which polls
// with growing sleeps, one of them could wait past its timeout while the
// others kept taking the lock, and its model failed (16 models under load:
// "save: database is locked"). A mutex wakes the next writer as soon as the
// lock is free. Connections of other processes still meet the busy
// handler.

#include <memory>
#include <mutex>
#include <string>

namespace bus::internal {

/// Returns the mutex that the writers of the file at `path` in this process
/// hold around each write transaction; the same one for every spelling of
/// the path, as long as any connection holds it.
std::shared_ptr<std::mutex> write_turn_for(const std::string& path);

} // namespace bus::internal
