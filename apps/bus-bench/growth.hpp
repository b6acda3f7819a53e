#pragma once

// The growth scenario: N new keys inserted into a read model's table, the
// table growing all the way, timed insert by insert. bus::growing_map
// moves a few entries per insert when it grows; Boost's flat map (what the
// read models used before) moves every entry in the insert that fills it.
// The worst 256 inserts in a row are what one projector's batch waited.

#include "harness.hpp"
#include "report.hpp"

namespace bench {

/// Runs the scenario with opt.events keys and reports its row to `out`.
void growth(const options& opt, report& out);

} // namespace bench
