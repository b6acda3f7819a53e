// The projector's snapshots: taking over what the restore at start read
// (projector_restore.cpp), recording the rows each apply changes, and
// handing snapshots to the snapshot writer (snapshot_writer.hpp), which
// writes them off this actor's thread. All of it runs between batches or
// right after an apply, where the model, the processed ids and the parked
// events agree.

#include "internal/projector_parts.hpp"

#include <algorithm>
#include <exception>

#include <caf/all.hpp>

#include "bus/errc.hpp"
#include "bus/log.hpp"
#include "bus/snapshot_rows.hpp"
#include "internal/model_code.hpp"

namespace bus::internal {

using actors::projector_state;
using actors::snapshot_basis;

namespace {

// A buffer the writer hands back is kept if it is at most this large, or
// twice the rows recorded since.
constexpr std::size_t spare_rows_kept_anyway = std::size_t{1} << 20;

// True while the projector records changed rows for its next snapshot.
bool records_rows(snapshot_basis x) noexcept {
  return x == snapshot_basis::rows_since_empty || x == snapshot_basis::delta;
}

caf::expected<snapshot_claim> claim(projector_state& st) {
  auto store = snapshot_store::open(st.options.snapshot_path);
  if (!store)
    return std::move(store.error());
  return (*store)->claim(st.model->name());
}

// Starts a writer for the claimed `generation`; `first` is what the first
// snapshot holds.
void start_writer(projector_ptr self, std::uint64_t generation, snapshot_basis first) {
  auto& st = self->state;
  st.snapshot_generation = generation;
  st.writer_stopping = std::make_shared<std::atomic<bool>>(false);
  st.snapshot_writer = actors::spawn_snapshot_writer(
    self->system(), st.options.snapshot_path, st.model->name(), generation,
    caf::actor_cast<caf::actor>(self), st.writer_stopping);
  st.snapshots_in_flight = 0;
  st.changes.clear();
  st.snapshots = first;
}

// Puts what the snapshot holds into `w`: the whole state, or the rows
// recorded since the last. Calls the model's snapshot() or write_value(),
// which may throw.
void take_state(projector_state& st, actors::snapshot_write& w) {
  switch (st.snapshots) {
    case snapshot_basis::off:
    case snapshot_basis::whole:
      w.x.layout = snapshot_layout::whole;
      w.document = st.model->snapshot();
      st.changes.clear(); // the whole state is in this one
      break;
    case snapshot_basis::full_rows:
      w.document = st.model->snapshot();
      st.changes.clear();
      if (!w.document.is_object()) {
        // Not one value per key: this model is snapshotted whole.
        w.x.layout = snapshot_layout::whole;
        st.snapshots = snapshot_basis::whole;
        break;
      }
      st.snapshots = snapshot_basis::delta;
      break;
    case snapshot_basis::rows_since_empty:
      w.x.state = st.changes.take(*st.model);
      st.snapshots = snapshot_basis::delta;
      break;
    case snapshot_basis::delta:
      w.how = rows_write::delta;
      w.counted = st.changes.counted();
      w.x.state = st.changes.take(*st.model);
      break;
  }
}

// The model threw taking a snapshot, which is then not written.
void snapshot_threw(projector_ptr self, const std::string& what, snapshot_done then) {
  auto& st = self->state;
  auto at = st.processed.watermark();
  auto err = make_error(errc::apply_failed, "read model '" + st.model->name()
                                              + "' failed taking its snapshot at seq "
                                              + std::to_string(at) + ": " + what);
  if (then && !st.failure) {
    // A promote or a persist (of a retried or discarded parked event)
    // waits for this one: as when its write fails (below), it fails, and
    // so does the projector.
    then(err);
    stop_snapshots(st);
    fail(self, std::move(err));
    return;
  }
  if (then)
    then(err);
  if (st.failure)
    return; // the last one, on the way out: the next projector replays more
  // A periodic one is skipped as a failed write is: the model goes on, the
  // next one is due snapshot_every events later and holds every row, for
  // what the recorded rows held may be gone.
  st.snapshot_seq = at;
  if (records_rows(st.snapshots))
    st.snapshots = snapshot_basis::full_rows;
  BUS_LOG(log_level::warning, "projector",
          context_of(err) << "; it goes on and tries again with its next one");
}

} // namespace

bool enable_tracking(projector_state& st) {
  // Rows are recorded only for periodic snapshots: on request alone
  // (snapshot_every 0) a model is snapshotted whole.
  if (!st.model_tracks_changes && st.options.snapshot_every > 0)
    st.model_tracks_changes = st.model->track_changes();
  return st.model_tracks_changes;
}

void start_snapshots(projector_ptr self, std::uint64_t generation, snapshot* restored) {
  auto& st = self->state;
  if (restored) {
    st.processed.restore(restored->checkpoint, restored->above);
    st.parked.restore(std::move(restored->parked));
    st.snapshot_seq = restored->checkpoint;
  }
  auto first = !st.model_tracks_changes ? snapshot_basis::whole
               : !restored ? snapshot_basis::rows_since_empty // the model is empty
               : restored->layout == snapshot_layout::rows ? snapshot_basis::delta
                                                           : snapshot_basis::full_rows;
  start_writer(self, generation, first);
}

bool own_snapshots(projector_ptr self) {
  auto& st = self->state;
  auto claimed = claim(st);
  if (!claimed) {
    fail(self, std::move(claimed.error()));
    return false;
  }
  auto tracks = enable_tracking(st);
  if (tracks) {
    // The first snapshot holds every row: what was recorded before is in it.
    st.changed_keys.clear();
    st.model->take_changes(st.changed_keys);
  }
  start_writer(self, claimed->generation,
               tracks ? snapshot_basis::full_rows : snapshot_basis::whole);
  return true;
}

void stop_snapshots(projector_state& st) {
  if (st.writer_stopping)
    st.writer_stopping->store(true);
  st.writer_stopping = nullptr;
  if (st.snapshot_writer)
    caf::anon_send_exit(st.snapshot_writer, caf::exit_reason::user_shutdown);
  st.snapshot_writer = actors::snapshot_writer_actor{};
  st.snapshot_generation = 0; // answers of the stopped writer are ignored
  st.snapshots = snapshot_basis::off;
  st.snapshots_in_flight = 0;
  st.changes.release();
  st.spare_rows = std::string{};
}

bool capture_changes(projector_ptr self) {
  auto& st = self->state;
  if (!st.model_tracks_changes)
    return true;
  auto& model = *st.model;
  auto record = [&] {
    st.changed_keys.clear();
    model.take_changes(st.changed_keys);
    if (records_rows(st.snapshots))
      st.changes.record(st.changed_keys, model);
  };
  std::string what;
  try {
    record();
    return true;
  } catch (const std::exception& ex) {
    what = ex.what();
  } catch (...) {
    what = "unknown exception";
  }
  fail(self,
       make_error(errc::apply_failed, "read model '" + model.name()
                                        + "' failed recording its changes: " + what));
  return false;
}

void restart_capture(projector_state& st) {
  st.changes.clear();
  if (st.model_tracks_changes && st.snapshots != snapshot_basis::off)
    st.snapshots = snapshot_basis::rows_since_empty;
}

void take_snapshot(projector_ptr self, snapshot_done then) {
  auto& st = self->state;
  if (st.snapshots == snapshot_basis::off) {
    if (then)
      then(caf::none);
    return;
  }
  // What the model recorded since its last apply (a model may change
  // outside one) belongs to this snapshot too.
  if (!capture_changes(self)) {
    if (then)
      then(st.failure);
    return;
  }
  actors::snapshot_write w;
  w.x.checkpoint = st.processed.watermark();
  w.x.above = st.processed.sparse();
  w.x.definition = stored_definition(st, *st.model);
  w.x.parked = st.parked.list();
  w.x.layout = snapshot_layout::rows;
  // fail() records why the projector stops before it takes the last one;
  // a compaction the writer is still busy with is then given up.
  w.turn = st.failure ? actors::write_turn::last : actors::write_turn::ongoing;
  if (w.turn == actors::write_turn::last && st.writer_stopping)
    st.writer_stopping->store(true);
  if (auto threw = model_threw([&] { take_state(st, w); })) {
    snapshot_threw(self, *threw, std::move(then));
    return;
  }
  // The next snapshot's rows go into the buffer the writer handed back
  // last, if there is one. They will be about as many as these.
  st.changes.reuse(std::exchange(st.spare_rows, std::string{}), w.x.state.size());
  st.snapshot_seq = w.x.checkpoint;
  ++st.snapshots_in_flight;
  auto generation = st.snapshot_generation;
  auto number = ++st.snapshot_writes;
  if (then)
    st.snapshot_waiting.emplace(number, std::move(then));
  // Runs what waits for write `number`, if anything still does.
  auto done = [self, number](const caf::error& err) {
    auto& waiting = self->state.snapshot_waiting;
    if (auto i = waiting.find(number); i != waiting.end()) {
      auto f = std::move(i->second);
      waiting.erase(i);
      f(err);
    }
  };
  self
    ->request(st.snapshot_writer, caf::infinite, actors::write_atom::value,
              std::move(w))
    .then(
      [self, generation, done](save_outcome outcome, std::string& spent) {
        auto& state = self->state;
        if (generation == state.snapshot_generation) {
          --state.snapshots_in_flight;
          // Not a buffer far larger than the rows recorded now (a base of
          // every key, once): it would stay allocated for good.
          auto bound = std::max<std::size_t>(2 * state.changes.capacity(),
                                             spare_rows_kept_anyway);
          if (records_rows(state.snapshots) && spent.capacity() <= bound
              && spent.capacity() > state.spare_rows.capacity())
            state.spare_rows = std::move(spent);
          if (outcome == save_outcome::superseded)
            stop_snapshots(state); // another projector owns the model now
        }
        done(caf::none);
        maybe_snapshot(self); // one may have come due meanwhile
      },
      [self, generation, number, done](caf::error& err) {
        auto& state = self->state;
        if (generation != state.snapshot_generation) {
          done(caf::none); // a writer stopped since: its answers do not count
          return;
        }
        --state.snapshots_in_flight;
        // The stored rows miss what this write held: the next one replaces
        // them all (the writer refuses deltas until then).
        if (records_rows(state.snapshots))
          state.snapshots = snapshot_basis::full_rows;
        if (state.snapshot_waiting.count(number) != 0) {
          // A pause, a switch or a persist waits for this one: it fails, and
          // so does the projector, as before (its replacement restores the
          // last snapshot that was written and pulls the rest).
          done(err);
          stop_snapshots(state); // no last one on the way out
          fail(self, std::move(err));
          return;
        }
        // A periodic snapshot only saves replay at the next start: the model
        // goes on answering (a full disk must not take it down), and the next
        // one, due after snapshot_every more events, tries again.
        BUS_LOG(log_level::warning, "projector",
                "read model '" << state.model->name()
                               << "' could not save its snapshot at seq "
                               << state.snapshot_seq << " (" << context_of(err)
                               << "); it goes on and tries again with its next one");
      });
}

void maybe_snapshot(projector_ptr self) {
  auto& st = self->state;
  if (st.snapshots == snapshot_basis::off || st.options.snapshot_every == 0
      || st.snapshots_in_flight > 0
      || st.processed.watermark() < st.snapshot_seq + st.options.snapshot_every)
    return;
  take_snapshot(self);
}

} // namespace bus::internal
