#pragma once

// The memory scenario: what the whole process takes per event logged, for
// the durable log and the memory log, beside a plain set of the ids.

#include "harness.hpp"
#include "report.hpp"

namespace bench {

/// Runs a bus with 4 projectors on each log, publishes 4 x `opt.events`
/// new events and prints how much the process's resident memory grows per
/// event past the first `opt.events`, into `out`.
void memory_per_event(const options& opt, report& out);

} // namespace bench
