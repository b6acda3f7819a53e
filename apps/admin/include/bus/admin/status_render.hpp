#pragma once

// The status of a node's read models as JSON fields: the one rendering
// behind the node protocol's status_ok and the admin endpoint's /status, so
// that both say exactly the same.

#include <cstdint>
#include <string>
#include <vector>

#include "bus/actors/messages.hpp"

namespace bus::admin {

/// How far a model is behind the log's head.
struct model_lag {
  std::uint64_t events = 0;
  /// How much older the event at its checkpoint is than the head event
  /// (at checkpoint 0, the log's first event: bus_status::first_timestamp).
  std::int64_t ms = 0;
};

/// `bus` with its head raised to the highest checkpoint of `models`: the
/// bus is asked before the models (on a projector node, it was seen
/// earlier), so under load a model may already have applied events that the
/// bus's answer did not count. The log holds at least every checkpoint.
actors::bus_status head_covering(actors::bus_status bus,
                                 const std::vector<actors::projector_status>& models);

/// The lag of `model` behind the head that `bus` reports.
model_lag lag_of(const actors::projector_status& model, const actors::bus_status& bus);

/// Appends `"head": N, "read_models": [...]`: every live model in the order
/// given, each with its blue/green shadow or kept projector nested under
/// its role.
void render_status_fields(std::string& out, const actors::bus_status& bus,
                          const std::vector<actors::projector_status>& models);

} // namespace bus::admin
