#pragma once

// The health decision behind GET /health: a node is healthy when every one
// of its live read models is running or catching up. Everything else
// (paused, stalled, parked, rebuilding, failed, away, ...) needs an
// operator or is not serving, and makes the node unhealthy. Blue/green
// shadows and kept projectors do not count: the live model serves. On a bus
// node, a failed store (it takes no events) is unhealthy too.

#include <optional>
#include <string>
#include <vector>

#include "bus/actors/messages.hpp"
#include "bus/leadership.hpp"

namespace bus::admin {

/// True for running, catching_up and restoring: on the way, not stuck.
bool healthy_state(actors::model_state x) noexcept;

struct health_verdict {
  bool healthy = true;
  /// Why not: "model orders is failed: ..." per unhealthy model, joined by
  /// "; " ("" when healthy).
  std::string reason;
};

/// Judges the live models of `models`.
health_verdict judge_health(const std::vector<actors::projector_status>& models);

/// Makes `verdict` unhealthy when the bus's store failed (a bus node only:
/// the store is the bus node's).
void judge_store(const actors::bus_status& bus, health_verdict& verdict);

/// A bus node that leads its log by lease is unhealthy while it is not
/// sure it leads, and once it lost the lease: it answers nothing then.
void judge_lease(const std::optional<leadership>& lead, health_verdict& verdict);

/// `{"healthy": ..., "reason": ..., "models": [{"model", "state"}, ...]}`.
std::string render_health(const health_verdict& verdict,
                          const std::vector<actors::projector_status>& models);

} // namespace bus::admin
