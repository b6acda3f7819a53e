// The projector's link to its bus (see projector.hpp): subscribing (or, a
// shadow, reading up to near the head first), losing the bus and waiting
// for it, and moving to another one.

#include "internal/projector_parts.hpp"

#include <algorithm>

#include <caf/all.hpp>

namespace bus::internal {

using namespace actors;

namespace {

// True when `err` means the bus did not answer because it (or its node) is
// out of reach, not because it refused: the projector then waits for its bus
// to come back instead of failing.
bool bus_lost(const caf::error& err) {
  return err == caf::sec::request_timeout || err == caf::sec::request_receiver_down
         || err == caf::sec::no_route_to_receiving_node
         || err == caf::exit_reason::remote_link_unreachable;
}

} // namespace

// A request to the bus failed: wait and retry when the bus is out of reach,
// fail otherwise (it refused, e.g. its store failed).
void bus_failed(projector_ptr self, caf::error err) {
  auto& st = self->state;
  // Without a bus (lost), a request fails for want of a receiver.
  if (st.bus && !bus_lost(err)) {
    fail(self, std::move(err));
    return;
  }
  if (st.phase == projector_phase::detached)
    return;
  drop_pulls(st); // answers still under way are dropped
  release_held(st);
  if (st.phase == projector_phase::paused)
    return; // resuming subscribes again
  if (st.phase == projector_phase::pausing) {
    // Pulls on up to where its model was paused once the bus is back.
    self->delayed_send(self, st.options.retry_delay, retry_atom::value,
                       st.bus_generation);
    return;
  }
  if (st.phase == projector_phase::frozen) {
    st.thaw_to = projector_phase::detached; // the thaw subscribes again
    return;
  }
  enter(st, projector_phase::detached);
  self->delayed_send(self, st.options.retry_delay, retry_atom::value,
                     st.bus_generation);
}

void rebind(projector_ptr self, bus_actor new_bus) {
  auto& st = self->state;
  st.bus = std::move(new_bus);
  ++st.bus_generation;
  drop_pulls(st); // what the old bus still owes is dropped
  // So is the answer to a subscribe under way: a pausing projector, which
  // does not subscribe again, would otherwise wait for it forever.
  st.subscribing = false;
  release_held(st);
  if (st.phase == projector_phase::paused)
    return; // resuming subscribes to the new bus
  if (st.phase == projector_phase::pausing) {
    if (st.bus)
      pull(self); // on up to where its model was paused
    return;
  }
  if (st.phase == projector_phase::frozen) {
    st.thaw_to = projector_phase::detached; // the thaw subscribes
    return;
  }
  subscribe(self); // then pulls from the checkpoint to the new head
}

namespace {

// A projector restored from a snapshot or table knows its checkpoint but
// not that event's time, which lag_ms is measured from: read it back, so
// that a restored model not applying yet (paused, or catching up) shows how
// far behind it is in time, not 0.
void learn_checkpoint_time(projector_ptr self) {
  auto& st = self->state;
  auto at = st.processed.watermark();
  if (st.checkpoint_timestamp != 0 || at == 0)
    return;
  self
    ->request(st.bus, st.options.bus_timeout, replay_atom::value, at, std::uint32_t{1})
    .then(
      [self, at](event_batch& batch) {
        auto& state = self->state;
        if (state.checkpoint_timestamp == 0 && !batch.empty() && batch.front().seq == at
            && state.processed.watermark() == at)
          state.checkpoint_timestamp = batch.front().timestamp;
      },
      [](caf::error&) {}); // only a figure of status: a later apply sets it
}

} // namespace

// Registers with the bus, which answers with the head seq to catch up to.
void subscribe(projector_ptr self) {
  auto& st = self->state;
  if (!st.bus) {
    // Lost (rebound to no bus): waits for the rebind that brings one.
    st.subscribing = false;
    drop_pulls(st);
    release_held(st);
    enter(st, projector_phase::detached);
    return;
  }
  st.subscribed = true;
  st.subscribing = true;
  // A rebuild under way stays one; every other phase catches up from here.
  if (st.phase != projector_phase::rebuilding)
    enter(st, projector_phase::catching_up);
  auto name = st.model->name();
  if (st.role == model_role::shadow)
    name += shadow_suffix;
  // Also the types that upcasters turn into the model's (renamed types).
  auto types = st.upcasters ? st.upcasters->sources_of(st.model->event_types())
                            : st.model->event_types();
  self
    ->request(st.bus, st.options.bus_timeout, subscribe_atom::value,
              projector_actor{self}, std::move(name), std::move(types))
    .then(
      [self, generation = st.bus_generation](std::uint64_t head) {
        auto& state = self->state;
        if (generation != state.bus_generation)
          return; // subscribed to a bus it has left since
        state.subscribing = false;
        if (state.phase == projector_phase::pausing) {
          pull(self); // held since: up to where its model was paused, no further
          return;
        }
        if (head < state.processed.watermark()) {
          // The bus has fewer events than this model took: it lost its
          // log (restarted without a store). Its seqs now name other
          // events, so nothing projected so far can be trusted.
          state.catch_up_target = head;
          start_rebuild(self);
          return;
        }
        state.catch_up_target = std::max(state.catch_up_target, head);
        learn_checkpoint_time(self);
        pull(self);
      },
      [self, generation = st.bus_generation](caf::error& err) {
        if (generation != self->state.bus_generation)
          return;
        self->state.subscribing = false;
        bus_failed(self, std::move(err));
      });
}

// A shadow reads the log without subscribing, so that publishers never wait
// for its catch-up; it subscribes once it is within a replay batch of the
// head, and catches up the rest like any projector.
void approach_head(projector_ptr self) {
  auto& st = self->state;
  if (st.asking_head)
    return;
  st.asking_head = true;
  self->request(st.bus, st.options.bus_timeout, head_atom::value)
    .then(
      [self](std::uint64_t head) {
        auto& state = self->state;
        state.asking_head = false;
        if (state.subscribed)
          return; // promoted meanwhile
        if (head <= state.processed.watermark() + state.options.replay_batch) {
          subscribe(self);
          return;
        }
        state.catch_up_target = std::max(state.catch_up_target, head);
        pull(self);
      },
      [self](caf::error& err) { fail(self, std::move(err)); });
}

} // namespace bus::internal
