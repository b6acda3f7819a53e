#pragma once

// GET /metrics: what a node reports, in Prometheus' text format. Every
// metric is documented in docs/operations.md, "Metrics".

#include <optional>
#include <string>
#include <vector>

#include "bus/actors/messages.hpp"
#include "bus/admin/bodies.hpp"
#include "bus/leadership.hpp"

namespace bus::admin {

/// Renders the node's metrics. A bus node reports the log's counters, its
/// store's timings and the bus's mailbox; every node reports its models
/// (labels model and role) and the head it knows.
std::string render_metrics(node_kind node, const actors::bus_status& bus,
                           const std::vector<actors::projector_status>& models,
                           const std::optional<leadership>& lead = std::nullopt);

} // namespace bus::admin
