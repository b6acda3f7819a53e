#pragma once

// The in-process scenarios: a bus and its projectors in this process, each
// beside a plain loop doing the same work in one thread, in the same run.

#include <cstddef>
#include <string>
#include <vector>

#include "bus/event.hpp"
#include "bus/event_log.hpp"
#include "harness.hpp"
#include "report.hpp"

namespace bench {

/// Publish -> log -> 4 projectors with dedup -> applied; returns the median
/// rate of the framework.
double pipeline(const options& opt, const std::vector<bus::event>& events, report& out);

/// Open-loop latency from publish to applied by 4 projectors at
/// `per_second`, beside the noise floor measured meanwhile.
void latency(const std::vector<bus::event>& events, double per_second,
             const std::string& id, report& out);

/// Appends `batches` to `log` as the bus does under the log's policy (with
/// an interval, sync() once the oldest unsynced batch is that old, and at
/// the end).
void append_durably(bus::event_log& log, std::vector<std::vector<bus::event>> batches);

/// Appending to the PostgreSQL log (--pg-uri) under each durability policy,
/// beside the SQLite log under the same policy.
void postgres_append(const options& opt, const std::vector<bus::event>& events,
                     report& out);

/// Appending to the durable log under each durability policy.
void durable_append(const options& opt, const std::vector<bus::event>& events,
                    report& out);

/// A projector rebuilding from the durable log.
void rebuild_from_store(const options& opt, const std::vector<bus::event>& events,
                        report& out);

/// A projector catching up a backlog in the memory log.
void recovery(const options& opt, const std::vector<bus::event>& events, report& out);

/// Heap bytes per processed event of the dedup set, over `n` events.
void dedup_memory(std::size_t n, report& out);

/// The noise floor for two seconds with nothing else running.
void noise_floor_alone(report& out);

} // namespace bench
