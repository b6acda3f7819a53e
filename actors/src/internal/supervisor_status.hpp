#pragma once

// The supervisor's status and readiness: every projector of this node
// asked at once (with a deadline, for status), blue/green shadows and kept
// projectors after them, and, on a bus's node, the models of the nodes
// attached to it. Runs in the supervisor's actor.

#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/result.hpp>
#include <caf/timespan.hpp>

#include "internal/supervisor_state.hpp"

namespace bus::internal {

using status_supervisor_ptr
  = actors::supervisor_actor::stateful_pointer<actors::supervisor_state>;

/// Answers status_atom: every model's status, in config order, then the
/// shadows and kept projectors, then (routing) the other nodes' models.
caf::result<std::vector<actors::projector_status>>
collect_statuses(status_supervisor_ptr self);

/// Answers ready_atom once every projector of this node has caught up.
caf::result<std::vector<actors::projector_status>>
collect_ready(status_supervisor_ptr self);

/// The error for a request to node `node` about `model` that failed with
/// `err`: the model's own answer when there is one, otherwise why the node
/// did not give one.
caf::error remote_failure(const caf::error& err, const std::string& model,
                          const std::string& node, caf::timespan timeout);

} // namespace bus::internal
