#pragma once

// The supervisor's restarts of live projectors (see supervisor.hpp): the
// backoff after a failure, the failed state and its half-open retry after a
// cool-down, and the operator's restart. Runs in the supervisor's actor.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <caf/error.hpp>
#include <caf/result.hpp>
#include <caf/system_messages.hpp>

#include "internal/supervisor_state.hpp"

namespace bus::internal {

using supervisor_ptr
  = actors::supervisor_actor::stateful_pointer<actors::supervisor_state>;

/// Spawns and monitors the projector of slot `index`.
void start(supervisor_ptr self, std::size_t index);

/// Notes where the frozen state of slot `index`'s paused projector is (its
/// answer to a pause), which the model's next projectors are told; where
/// pauses are kept, for the next node's too.
void note_frozen(supervisor_ptr self, std::size_t index,
                 const actors::projector_status& x);

/// Called once an intent is kept, or not: with none, or with why not.
using intent_kept = std::function<void(caf::error)>;

/// Records what the operator wants of `model` and where its frozen state
/// is (none once resumed), in its slots and where pauses are kept; returns
/// the failure to keep it there, logged: the intent holds on this node, but
/// a restart of the node would not find it. errc::model_unavailable when
/// the store's fence refused it (another bus node leads), storage_failed
/// otherwise (the store cannot write). The caller must not acknowledge the
/// request as done on a failure.
caf::error record_intent(supervisor_ptr self, const std::string& model,
                         actors::supervisor_state::intent x,
                         std::optional<std::uint64_t> frozen_at);

/// The same, and tells the bus if `model` is a partition of a shared model
/// (report_pause); then calls `done`, if any, with the first failure: this
/// node's store's (as record_intent), or the bus's refusal to keep it (its
/// store failed), or none. At once for any other model; once the bus has
/// answered for a partition.
void keep_intent(supervisor_ptr self, const std::string& model,
                 actors::supervisor_state::intent x,
                 std::optional<std::uint64_t> frozen_at, intent_kept done);

/// Where a projector's status says its frozen state is.
std::optional<std::uint64_t> frozen_of(const actors::projector_status& x);

/// Handles the down message of a live projector: a restart after the
/// backoff, failed (with a retry after the cool-down), or stopped.
void live_down(supervisor_ptr self, const caf::down_msg& dm);

/// The timer of slot `index`: a restart after the backoff, or the half-open
/// retry of a failed model; ignored unless `generation` is still current.
void restart_due(supervisor_ptr self, std::uint64_t index, std::uint64_t generation);

/// The operator's restart of the local model in slot `index`.
caf::result<actors::projector_status> restart_model(supervisor_ptr self,
                                                    std::size_t index);

} // namespace bus::internal
