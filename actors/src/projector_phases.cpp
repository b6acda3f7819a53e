// The projector's phases (see projector.hpp): the one place its phase
// changes, and the two ways out of its current state: a reset of its model
// (a rebuild) and a failure, which answers everything it holds.

#include "internal/projector_parts.hpp"

#include <caf/all.hpp>

#include "bus/log.hpp"

namespace bus::internal {

using namespace actors;

// An acknowledgement that applies nothing: the events come back later from
// the log (a paused projector answers pushes with it).
delivery_ack unapplied_ack(const projector_state& st) {
  delivery_ack ack;
  ack.checkpoint = st.processed.watermark();
  return ack;
}

namespace {

// True when a projector may move from phase `from` to `to` (projector.hpp
// lists the moves).
constexpr bool allowed(projector_phase from, projector_phase to) noexcept {
  using p = projector_phase;
  if (from == p::restoring) // done, with its bus or having lost it
    return to == p::catching_up || to == p::detached;
  switch (to) {
    case p::restoring:
      return false; // only a new projector starts there
    case p::approaching:
      return false; // only a new shadow starts there
    case p::catching_up:
      return from != p::rebuilding;
    case p::filling_gap:
      return from == p::running || from == p::frozen;
    case p::rebuilding:
      return from != p::paused && from != p::pausing;
    case p::running:
      return from == p::catching_up || from == p::rebuilding || from == p::filling_gap
             || from == p::frozen;
    case p::detached:
      return true; // from paused: a resume while the bus is lost
    case p::paused:
      return true;
    case p::pausing:
      return from != p::frozen;
    case p::frozen:
      return from != p::paused && from != p::pausing;
  }
  return false;
}

} // namespace

void enter(projector_state& st, projector_phase to) {
  if (st.phase == to)
    return;
  // A move outside the list is a bug in the projector; keep the phase rather
  // than enter a state nobody designed for.
  if (!allowed(st.phase, to)) {
    BUS_LOG(log_level::error, "projector",
            "read model '" << (st.model ? st.model->name() : std::string{"?"})
                           << "': ignored phase change " << static_cast<int>(st.phase)
                           << " -> " << static_cast<int>(to));
    return;
  }
  st.phase = to;
}

// Empties the read model, its processed ids and its table. Returns false
// (the projector is then failing) when the table cannot be cleared.
bool reset_model(projector_ptr self) {
  auto& st = self->state;
  // What was applied is acknowledged once committed, before it is cleared.
  if (!flush_table(self))
    return false;
  internal::abandon_suspended(st);
  st.model->reset();
  st.processed.clear();
  st.parked.clear();
  st.dropped.clear();
  if (st.took) // its marks name events applied before the reset
    st.took.emplace(0);
  st.checkpoint_timestamp = 0;
  st.snapshot_seq = 0;
  restart_capture(st);
  if (st.table) {
    if (auto err = st.table->clear()) {
      fail(self, std::move(err));
      return false;
    }
  }
  return true;
}

void fail(projector_ptr self, caf::error reason) {
  auto& st = self->state;
  abandon_restore(st);
  // The batches applied since the last commit: committed on the way out
  // (state and checkpoint agree between messages), unless the failure is
  // the table's own; their pushes are answered with the outcome.
  if (st.table) {
    auto err = st.failure;
    if (!err && st.table_state == table_sync::commit_due)
      err = st.table->commit(*st.model, st.processed.watermark(), st.processed.sparse(),
                             &st.parked);
    st.table_state = table_sync::committed;
    answer_uncommitted(st, err);
  }
  // A last snapshot, written before the writer quits: state and checkpoint
  // agree between messages, and a restart then pulls only what came after
  // (not if the failure came from taking one: then st.failure is set).
  if (st.snapshots != snapshot_basis::off && !st.failure) {
    st.failure = reason;
    take_snapshot(self);
  }
  st.failure = reason;
  if (st.suspended && st.suspended->promise)
    st.suspended->promise->deliver(reason);
  st.suspended.reset();
  for (auto& h : st.held)
    h.promise.deliver(reason);
  st.held.clear();
  for (auto& rp : st.waiting)
    rp.deliver(reason);
  st.waiting.clear();
  auto snapshot_waiting = std::move(st.snapshot_waiting);
  st.snapshot_waiting.clear();
  for (auto& [number, done] : snapshot_waiting)
    done(reason);
  self->quit(std::move(reason));
}

} // namespace bus::internal
