// The projector's hold: a partition of a shared model that moves to another
// node while paused starts there as a new projector, told where its model
// was paused. It pulls the log up to that checkpoint without subscribing
// (pausing), so that it answers queries from the very state the model
// answered from when paused, and applies nothing published after the pause.

#include "internal/projector_parts.hpp"

#include <caf/all.hpp>

namespace bus::internal {

using namespace actors;

caf::result<projector_status> hold(projector_ptr self, std::uint64_t frozen_at) {
  auto& st = self->state;
  if (st.phase == projector_phase::pausing)
    drop_pulls(st); // told again: its target is the new one
  else
    pause(self, projector_actor{}, frozen_at); // unsubscribed, pushes answered
  // The model's frozen state is where it was paused, whatever this
  // projector had: one past it answers nothing until resumed.
  st.frozen_at = frozen_at;
  if (st.processed.watermark() >= frozen_at) {
    enter(st, projector_phase::paused);
    return keep_frozen(self);
  }
  enter(st, projector_phase::pausing);
  st.catch_up_target = frozen_at;
  pull(self);
  return status_of(self);
}

void reach_pause(projector_ptr self) {
  auto& st = self->state;
  enter(st, projector_phase::paused);
  // Kept durably as a pause keeps it: a restart restores this state.
  keep_frozen(self);
  // A ready still waiting for the pull: paused counts as ready.
  auto waiting = std::move(st.waiting);
  st.waiting.clear();
  for (auto& rp : waiting)
    rp.deliver(status_of(self));
}

} // namespace bus::internal
