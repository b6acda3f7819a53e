#pragma once

// The log_growth scenario: the memory log appending every event in batches
// of 256, each append timed. A batch's append is what a publish waits for
// in the bus actor; the worst ones are where the log's memory grows (its
// id index doubling, its next table faulted in).

#include <vector>

#include "bus/event.hpp"

#include "harness.hpp"
#include "report.hpp"

namespace bench {

/// Runs the scenario on `events` and reports its row to `out`.
void log_growth(const options& opt, const std::vector<bus::event>& events, report& out);

} // namespace bench
