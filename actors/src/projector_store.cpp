// The projector's tables: a model kept in a table commits its changed rows
// with the checkpoint, the processed ids and the parked events in one
// transaction, so that none of them can disagree after a crash, and before
// it acknowledges the batches the commit covers. Also what persists a change
// of the parked events: a table commit or a snapshot (projector_snapshots.cpp).
//
// A commit is not made per batch but once the projector has taken what
// queued up in its mailbox (a commit_atom sent to itself): a commit rewrites
// the table pages its keys fall on, most of a large table, so one per push
// made a table's cost grow with its size times the pushes, and a busy
// projector now commits several pushes at once.

#include "internal/projector_parts.hpp"

#include <caf/all.hpp>

#include "bus/errc.hpp"

namespace bus::internal {

bool commit_table(projector_ptr self) {
  // On failure the model is ahead of its table: a replacement reloads the
  // table's consistent state.
  auto& st = self->state;
  st.table_state = actors::table_sync::committed;
  if (auto err = st.table->commit(*st.model, st.processed.watermark(),
                                  st.processed.sparse(), &st.parked)) {
    st.failure = err; // fail() must not commit again
    fail(self, std::move(err));
    return false;
  }
  answer_uncommitted(st, caf::none);
  return true;
}

void answer_uncommitted(actors::projector_state& st, const caf::error& err) {
  auto answers = std::move(st.uncommitted);
  st.uncommitted.clear();
  for (auto& [rp, ack] : answers) {
    if (err)
      rp.deliver(err);
    else
      rp.deliver(std::move(ack));
  }
}

void table_changed(projector_ptr self) {
  auto& st = self->state;
  if (st.table_state == actors::table_sync::commit_due)
    return;
  st.table_state = actors::table_sync::commit_due;
  self->send(self, actors::commit_atom::value);
}

bool flush_table(projector_ptr self) {
  auto& st = self->state;
  return st.table_state == actors::table_sync::committed || commit_table(self);
}

void answer_applied(actors::projector_state& st,
                    caf::typed_response_promise<actors::delivery_ack> rp,
                    actors::delivery_ack ack) {
  if (st.table_state == actors::table_sync::commit_due)
    st.uncommitted.emplace_back(std::move(rp), std::move(ack));
  else
    rp.deliver(std::move(ack));
}

namespace {

caf::error cannot_track(const read_model& model) {
  return make_error(errc::invalid_config,
                    "read model '" + model.name()
                      + "' cannot persist to a table (it does not "
                        "track its changes): use memory storage");
}

} // namespace

bool can_keep_table(projector_ptr self) {
  auto& st = self->state;
  if (st.model->track_changes())
    return true;
  st.failure = cannot_track(*st.model);
  return false;
}

void adopt_table(projector_ptr self, std::unique_ptr<model_table> table,
                 table_contents* contents) {
  auto& st = self->state;
  st.table = std::move(table);
  st.parked.track_changes();
  if (contents) {
    st.processed.restore(contents->checkpoint, contents->above);
    st.parked.restore(std::move(contents->parked));
  }
}

bool take_over_table(projector_ptr self) {
  auto& st = self->state;
  auto& model = *st.model;
  auto failed = [&](caf::error err) {
    st.table.reset();
    st.failure = err; // nothing to commit on the way out
    fail(self, std::move(err));
    return false;
  };
  if (!model.track_changes())
    return failed(cannot_track(model));
  // Opened under this model's definition: another one's rows are emptied.
  auto table = model_table::open(st.options.models_path, model.name(),
                                 stored_definition(st, model));
  if (!table)
    return failed(std::move(table.error()));
  st.table = std::move(*table);
  st.table_state = actors::table_sync::committed;
  st.parked.track_changes();
  if (auto err = st.table->replace(model, st.processed.watermark(),
                                   st.processed.sparse(), st.parked))
    return failed(std::move(err));
  return true;
}

bool give_up_table(projector_ptr self) {
  auto& st = self->state;
  if (!st.table)
    return true;
  if (!flush_table(self))
    return false;
  st.table.reset();
  return true;
}

caf::result<actors::projector_status> keep_frozen(projector_ptr self) {
  auto& st = self->state;
  auto at = st.processed.watermark();
  if (!st.frozen_at || *st.frozen_at != at)
    return status_of(self); // nothing it answers from to keep
  if (st.table) {
    if (!commit_table(self))
      return st.failure;
    return status_of(self);
  }
  // Answered at once, not once written: a resume right behind the pause
  // must not be answered first. A crash before the write leaves a new
  // projector short of the frozen state: it refuses queries, never answers
  // from an older one.
  if (st.snapshots != actors::snapshot_basis::off && st.snapshot_seq != at)
    take_snapshot(self, nullptr);
  return status_of(self);
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
