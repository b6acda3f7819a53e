#pragma once

// The supervisor's blue/green rebuild (see supervisor.hpp): starting,
// restarting and switching a shadow projector, rolling a switch back and
// discarding what a switch kept. Runs in the supervisor's actor; the
// supervisor's handlers call these.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/system_messages.hpp>
#include <caf/result.hpp>

#include "internal/supervisor_state.hpp"

namespace bus::internal {

using supervisor_ptr
  = actors::supervisor_actor::stateful_pointer<actors::supervisor_state>;

/// Starts a shadow projector for model `spec.name`; answers at once with
/// the shadow's status, or with shadow_wait::live once it has replaced the
/// live one.
caf::result<actors::projector_status> start_shadow(supervisor_ptr self, model_spec spec,
                                                   actors::shadow_wait wait);

/// Swaps the projector the last switch of `model` replaced back in, once it
/// has caught up; the newer one is stopped.
caf::result<actors::projector_status> roll_back(supervisor_ptr self,
                                                const std::string& model);

/// Stops the projector the last switch of `model` replaced, or else the
/// shadow of a rebuild that has not switched yet.
caf::result<actors::projector_status> discard(supervisor_ptr self,
                                              const std::string& model);

/// Restarts slot `index`'s shadow if `generation` is still its current one.
void restart_shadow(supervisor_ptr self, std::uint64_t index, std::uint64_t generation);

/// Slot `index`'s shadow, holding its switch (generation `generation`),
/// tries its parked events again, then the switch.
void retry_held(supervisor_ptr self, std::uint64_t index, std::uint64_t generation);

/// Handles the down message of a shadow or of a kept previous projector;
/// returns false when `dm` comes from neither.
bool blue_green_down(supervisor_ptr self, const caf::down_msg& dm);

/// An error (errc::precondition_failed) when `model`'s projectors are in a
/// blue/green hand-over or rollback, which fixes what the live projector
/// applied: `what` (pause, resume, rebuild, restart, unpark) waits until it
/// is over.
caf::error refuse_in_hand_over(const actors::supervisor_state& st,
                               const std::string& model, const char* what);

/// A projector of a blue/green rebuild to report in status.
struct blue_green_entry {
  actors::projector_actor handle;
  /// Prefilled: model, role, state, restarts, last_error.
  actors::projector_status status;
};

/// The shadows and kept previous projectors, in slot order.
std::vector<blue_green_entry> blue_green_entries(const actors::supervisor_state& st);

/// Stops every shadow and kept previous projector with `reason`.
void stop_blue_green(supervisor_ptr self, const caf::error& reason);

} // namespace bus::internal
