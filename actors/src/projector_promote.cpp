// The projector's promote (see projector.hpp): a shadow that switches in,
// or a projector promoted back, becomes the model's live projector and
// takes its table or snapshots over first.

#include "internal/projector_parts.hpp"

#include <caf/all.hpp>

namespace bus::internal {

using namespace actors;

namespace {

// Subscribes under the model's name (a promote).
void go_live(projector_ptr self) {
  auto& st = self->state;
  if (st.phase == projector_phase::frozen) {
    thaw(self); // promoted back: its switch was held
    return;
  }
  if (st.role == model_role::shadow || st.phase == projector_phase::paused) {
    // Subscribe again under the model's name; the bus keeps a subscriber's
    // name, so leave first (in order: same sender).
    if (st.subscribed)
      self
        ->request(st.bus, st.options.bus_timeout, unsubscribe_atom::value,
                  projector_actor{self})
        .then([](bool) {}, [](caf::error&) {});
    st.role = model_role::live;
    subscribe(self); // then pulls from the checkpoint to the head
  }
}

} // namespace

// Becomes the model's live projector; answered once caught up.
caf::result<projector_status> promote(projector_ptr self) {
  auto& state = self->state;
  // A model in a table has its table, not snapshots (they would take the
  // changed keys its commits write). A projector switching in, or promoted
  // back, writes its whole state there first: a restart then loads this
  // model's rows, not its predecessor's, even under the same definition().
  auto in_table = state.storage == model_storage::sqlite;
  if (in_table && !state.table && !take_over_table(self))
    return state.failure;
  if (in_table || state.options.snapshot_path.empty()) {
    go_live(self);
    return when_caught_up(self); // answered once caught up
  }
  // Own the model's snapshots from here, starting with one now: a
  // restart then restores this model's state, not its predecessor's.
  // Live only once that snapshot is written.
  if (state.snapshots == snapshot_basis::off && !own_snapshots(self))
    return state.failure;
  auto rp = self->make_response_promise<projector_status>();
  take_snapshot(self, [self, rp](const caf::error& err) mutable {
    if (err) {
      rp.deliver(err);
      return;
    }
    go_live(self);
    if (behind(self->state.phase))
      self->state.waiting.push_back(rp);
    else
      rp.deliver(status_of(self));
  });
  return rp;
}

} // namespace bus::internal
