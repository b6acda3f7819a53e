#pragma once

// The distributed scenario: a bus in one actor system and a projector in
// each of two more, joined over loopback TCP by CAF's middleman, so that
// every batch is serialized to two other nodes and acknowledged back.

#include <vector>

#include "bus/event.hpp"
#include "harness.hpp"
#include "report.hpp"

namespace bench {

/// Publish -> log -> 2 remote projectors with dedup -> applied; reports the
/// row beside its loop and returns the median rate.
double remote_pipeline(const options& opt, const std::vector<bus::event>& events,
                       report& out);

/// Latency from publish to applied by both remote projectors at `per_second`,
/// beside the noise floor measured meanwhile, as row `id`.
void remote_latency(const std::vector<bus::event>& events, double per_second,
                    const std::string& id, report& out);

} // namespace bench
