// The projector's tables: a model kept in a table commits its changed rows
// with the checkpoint, the processed ids and the parked events after every
// batch, so that none of them can disagree after a crash. Also what
// persists a change of the parked events: a table commit or a snapshot
// (projector_snapshots.cpp).

#include "internal/projector_parts.hpp"

#include <caf/all.hpp>

#include "bus/errc.hpp"

namespace bus::internal {

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

caf::result<actors::parked_list> persist_now(projector_ptr self,
                                             actors::parked_list answer) {
  auto& st = self->state;
  if (st.table) {
    if (!commit_table(self))
      return st.failure;
    return answer;
  }
  if (st.snapshots == actors::snapshot_basis::off)
    return answer; // nothing durable: a restart parks again from the log
  auto rp = self->make_response_promise<actors::parked_list>();
  take_snapshot(self, [rp, answer](const caf::error& err) mutable {
    if (err)
      rp.deliver(err);
    else
      rp.deliver(std::move(answer));
  });
  return rp;
}

} // namespace bus::internal
