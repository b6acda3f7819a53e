#pragma once

// The hand-overs of a blue/green rebuild (see blue_green.hpp): from a shadow
// that has caught up to the model's live projector, or a hold of the switch
// while the shadow lacks events the live projector applied; and a
// rollback's, checked the same way. Runs in the supervisor's actor.

#include <cstddef>
#include <functional>
#include <string>

#include <caf/error.hpp>

#include "internal/blue_green.hpp"

namespace bus::internal {

/// Hands slot `index`'s model over to `shadow`, which answered ready: the
/// live projector is frozen (it holds its pushes), the shadow promoted
/// unless it lacks an event the live one applied (then it holds its switch
/// and tries again), and the live one then paused, its held pushes handed
/// to the shadow.
void begin_switch(supervisor_ptr self, std::size_t index,
                  actors::projector_actor shadow);

/// Swaps the previous projector of slot `index`, which has caught up, back
/// in, unless it lacks an event `current` applied (then it tries its parked
/// events again once, and else the rollback is refused: `promise` gets
/// errc::precondition_failed and `current` stays live).
void rollback_caught_up(supervisor_ptr self, std::size_t index,
                        actors::projector_actor previous,
                        actors::projector_actor current,
                        caf::typed_response_promise<actors::projector_status> promise);

/// The live projector goes on after a hand-over that did not happen: it owns
/// the snapshots again and runs (stays paused if the operator paused it).
/// `then` runs once it does, or at once if `live` is no longer the slot's:
/// an answer sent before would reach a client whose next event the paused
/// projector leaves out.
void reinstate(supervisor_ptr self, std::size_t index, actors::projector_actor live,
               std::function<void()> then = nullptr);

/// Pauses slot `index`'s live projector if its operator paused the model:
/// a switch, a rollback or a switch that did not happen leaves a paused
/// model paused. Returns true when it did.
bool keep_pause(supervisor_ptr self, std::size_t index);

/// Answers the requests that waited for a switch that will not happen.
void give_up(actors::supervisor_state::slot& s, const caf::error& reason);

/// The text of a failure, for last_error.
std::string describe(const caf::error& reason);

} // namespace bus::internal
