#pragma once

// The files beside a SQLite store (`PATH.snapshots`, `PATH.models`,
// `PATH.lifecycle`), checked when a node starts. A damaged one would
// otherwise fail each model as it first opens it, one by one and for good,
// while the node runs on and reports the models failed: better to refuse
// to start, naming the file.

#include <string>
#include <vector>

#include <caf/error.hpp>

namespace bus {

/// Returns an errc::storage_failed naming the first file of `paths` that
/// exists and is not a SQLite database (or cannot be read), and what to do
/// about it, or that another process holds it locked (in use, not
/// damaged); none when all are usable. A missing file is fine: it is made
/// when first used.
caf::error check_store_files(const std::vector<std::string>& paths);

} // namespace bus
