#pragma once

// The snapshot scenario (issue 11, part 1): the node's two declarative read
// models (config/node.json) fed a stream of users created, then updated at
// random, as bus-node runs them: on the memory log, then on a durable store
// without snapshots, then with a snapshot every 10,000 events. Its ratio
// of the last two is what snapshots cost the pipeline.

#include "harness.hpp"
#include "report.hpp"

namespace bench {

/// Runs the scenario on `opt.events` events over a tenth as many users and
/// reports its rows to `out`.
void snapshots(const options& opt, report& out);

} // namespace bench
