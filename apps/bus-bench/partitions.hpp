#pragma once

// The partitions scenario (issue 13, part 1): one read model that costs
// a few microseconds of CPU per event (a model doing real work per event,
// not a bare map update), run whole and as 2 and 4 key-hash partitions on
// the memory log, beside the same applies in one thread.

#include "harness.hpp"
#include "report.hpp"

namespace bench {

/// Runs the scenario on `events` and reports its rows to `out`.
void partitions(const options& opt, const std::vector<bus::event>& events, report& out);

} // namespace bench
