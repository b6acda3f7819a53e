#pragma once

// `bus-node --await-models A,B`: holds the node's input until the named read
// models are served (here or on attached projector nodes) and running, so
// that the first event of a multi-node start already reaches them. Without
// it, events sent before the projector nodes connect are logged but answered
// without those models.

#include <chrono>
#include <string>
#include <vector>

#include <caf/scoped_actor.hpp>

#include "bus/actors/supervisor.hpp"

namespace bus::node {

enum class await_outcome {
  /// Every named model runs.
  ready,
  /// The set of running models did not change for the patience.
  no_progress,
};

struct await_result {
  await_outcome outcome = await_outcome::ready;
  /// The named models not running at the end.
  std::vector<std::string> missing;
};

/// Polls the supervisor's status until every model in `names` is running.
/// Gives up after `patience` without a change (zero waits for ever); logs
/// which models it waits for about once a second.
await_result await_models(caf::scoped_actor& self, const actors::supervisor_actor& sup,
                          const std::vector<std::string>& names,
                          std::chrono::milliseconds patience);

} // namespace bus::node
