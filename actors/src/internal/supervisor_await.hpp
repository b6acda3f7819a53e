#pragma once

// The supervisor's waits for applied seqs (await_atom; see
// bus/actors/await_applied.hpp). Runs in the supervisor's actor.
//
// The supervisor keeps every wait and its deadline; each projector is asked
// to watch only the lowest seq that a wait needs of it, and pushes its
// checkpoint once there (the projector's await_atom). Waiting costs one
// message per projector and per wait answered, and no polling: a projector
// that never reaches the seq (paused, failed) simply never pushes, and the
// supervisor's own delayed message ends the wait at its deadline. A
// restarted or switched projector is asked again (watch_new_projector).

#include <cstdint>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/result.hpp>

#include "internal/supervisor_state.hpp"

namespace bus::internal {

using await_supervisor_ptr
  = actors::supervisor_actor::stateful_pointer<actors::supervisor_state>;

/// Starts a wait until `model` ("": every live model of this node and,
/// routing, of the nodes attached to the bus) has applied up to `seq`.
caf::result<std::vector<actors::model_checkpoint>> start_wait(await_supervisor_ptr self,
                                                              std::uint64_t seq,
                                                              const std::string& model,
                                                              caf::timespan timeout);

/// A projector's push: its checkpoint reached the seq it watched.
void on_applied(await_supervisor_ptr self, std::uint64_t checkpoint);

/// The deadline of wait `id`: answers with the models still behind.
void expire_wait(await_supervisor_ptr self, std::uint64_t id);

/// Slot `index` has a new projector (a start, restart or blue/green
/// switch): asks it to watch what the waits need.
void watch_new_projector(await_supervisor_ptr self, std::size_t index);

/// Answers every wait with `reason` (the supervisor stops).
void drop_waits(await_supervisor_ptr self, const caf::error& reason);

} // namespace bus::internal
