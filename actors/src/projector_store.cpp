// The projector's persistence: snapshots of memory models and tables of
// table models, each written with the checkpoint, the processed ids and the
// parked events, so that none of them can disagree after a crash.

#include "internal/projector_parts.hpp"

#include <caf/all.hpp>

#include "bus/errc.hpp"

namespace bus::internal {

void maybe_snapshot(projector_ptr self) {
  auto& st = self->state;
  if (!st.snapshots || st.options.snapshot_every == 0
      || st.processed.watermark() < st.snapshot_seq + st.options.snapshot_every)
    return;
  save_snapshot(self);
}

bool save_snapshot(projector_ptr self) {
  auto& st = self->state;
  snapshot x;
  x.checkpoint = st.processed.watermark();
  x.above = st.processed.sparse();
  x.definition = st.model->definition();
  x.state = bus::detail::json_text(st.model->snapshot());
  x.parked = st.parked.list();
  if (auto err = st.snapshots->save(st.model->name(), x)) {
    fail(self, std::move(err)); // a store that cannot save is reported
    return false;
  }
  st.snapshot_seq = x.checkpoint;
  return true;
}

bool open_snapshots(projector_ptr self) {
  auto& st = self->state;
  auto store = snapshot_store::open(st.options.snapshot_path);
  if (!store) {
    fail(self, store.error());
    return false;
  }
  st.snapshots = std::move(*store);
  return true;
}

void restore_snapshot(projector_ptr self) {
  auto& st = self->state;
  if (!open_snapshots(self))
    return;
  auto loaded = st.snapshots->load(st.model->name());
  if (!loaded) {
    fail(self, loaded.error());
    return;
  }
  if (!*loaded || (*loaded)->definition != st.model->definition())
    return; // none, or taken under another definition: rebuild from the log
  boost::json::value state;
  if (bus::detail::parse_json_text((*loaded)->state, state)
      || !st.model->restore(state)) {
    st.model->reset();
    return;
  }
  st.processed.restore((*loaded)->checkpoint, (*loaded)->above);
  st.parked.restore(std::move((*loaded)->parked));
  st.snapshot_seq = (*loaded)->checkpoint;
}

bool commit_table(projector_ptr self) {
  // On failure the model is ahead of its table: a replacement reloads the
  // table's consistent state.
  auto& st = self->state;
  if (auto err = st.table->commit(*st.model, st.processed.watermark(),
                                  st.processed.sparse(), &st.parked)) {
    fail(self, std::move(err));
    return false;
  }
  return true;
}

void open_table(projector_ptr self) {
  auto& st = self->state;
  auto& model = *st.model;
  if (!model.track_changes()) {
    st.failure = make_error(errc::invalid_config,
                            "read model '" + model.name()
                              + "' cannot persist to a table (it does not "
                                "track its changes): use memory storage");
    return;
  }
  auto table = model_table::open(st.options.models_path, model.name(),
                                 model.definition());
  if (!table) {
    st.failure = std::move(table.error());
    return;
  }
  auto loaded = (*table)->load();
  if (!loaded) {
    st.failure = std::move(loaded.error());
    return;
  }
  st.table = std::move(*table);
  st.parked.track_changes();
  if (!model.restore(loaded->rows)) {
    // Rows this model cannot take: start over from the log.
    model.reset();
    if (auto err = st.table->clear())
      st.failure = std::move(err);
    return;
  }
  st.processed.restore(loaded->checkpoint, loaded->above);
  st.parked.restore(std::move(loaded->parked));
}

bool persist_now(projector_ptr self) {
  auto& st = self->state;
  if (st.table)
    return commit_table(self);
  if (st.snapshots)
    return save_snapshot(self);
  return true; // nothing durable: a restart parks again from the log
}

} // namespace bus::internal
