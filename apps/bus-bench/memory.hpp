#pragma once

// The memory scenario: what the whole process takes per event logged, for
// the durable log and the memory log, beside a plain set of the ids.

#include "harness.hpp"

namespace bench {

/// Runs a bus with 4 projectors on each log, publishes `opt.events` new
/// events, then as many again, and prints the growth of the process's
/// resident memory between the two points per event of the second part.
void memory_per_event(const options& opt);

} // namespace bench
