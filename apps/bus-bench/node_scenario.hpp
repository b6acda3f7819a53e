#pragma once

// The JSON node end to end: bus-node, run as a child process, answers a
// generated input on stdin (as in production: parse, log, read models,
// replies), in memory and with --store; beside it, the same work in a plain
// loop in this process (the node's own parser, a dedup set of ids, the same
// two read models, the same replies), on the same input in the same run.

#include "harness.hpp"
#include "report.hpp"

namespace bench {

/// Runs the node scenario `opt.runs` times and reports its rows.
void node_end_to_end(const options& opt, report& out);

} // namespace bench
