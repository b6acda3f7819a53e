// A projector's restore at start, as its helper runs it (restore_job.hpp):
// nothing here touches the projector, only the job and the model it lends.

#include "internal/restore_job.hpp"

#include "bus/actors/detail/json_text.hpp"
#include "bus/snapshot_rows.hpp"

namespace bus::internal {

namespace {

// Restores the claimed snapshot `x` into the job's model; false (the model
// reset) when it cannot, and the model is then rebuilt from the log.
bool restore_snapshot(restore_job& job, snapshot& x) {
  auto& model = *job.model;
  if (x.layout == snapshot_layout::rows) {
    // Row by row: the state is never a JSON object beside the model.
    auto restored = restore_rows(model, std::move(x.state), &job.progress);
    return restored && *restored;
  }
  boost::json::value state;
  if (bus::detail::parse_json_text(x.state, state))
    return false;
  // The text of a large state is freed before the model grows.
  x.state = std::string{};
  if (!model.restore(state)) {
    model.reset();
    return false;
  }
  return true;
}

void restore_from_snapshots(restore_job& job) {
  auto store = snapshot_store::open(job.path);
  if (!store) {
    job.failure = std::move(store.error());
    return;
  }
  auto claimed = (*store)->claim(job.name);
  if (!claimed) {
    job.failure = std::move(claimed.error());
    return;
  }
  job.generation = claimed->generation;
  // None, or taken under another definition: rebuilt from the log.
  auto& stored = claimed->stored;
  if (stored && stored->definition == job.definition && restore_snapshot(job, *stored))
    job.restored = std::move(*stored);
}

void restore_from_table(restore_job& job) {
  auto& model = *job.model;
  auto table = model_table::open(job.path, job.name, job.definition);
  if (!table) {
    job.failure = std::move(table.error());
    return;
  }
  // Row by row into the model, as a rows snapshot is restored; a model
  // that cannot gets the whole table as one object instead.
  model.reset();
  row_restorer restorer{model, &job.progress};
  auto loaded = (*table)->load(
    [&restorer](std::string_view key, boost::json::value& value) {
      return restorer(key, value);
    });
  if (restorer.stopped())
    return; // nobody waits for this model any more
  if (loaded && !restorer.by_row()) {
    model.reset();
    loaded = (*table)->load();
  }
  if (!loaded) {
    job.failure = std::move(loaded.error());
    return;
  }
  if (!restorer.by_row() && !model.restore(loaded->rows)) {
    // Rows this model cannot take: start over from the log.
    model.reset();
    job.failure = (*table)->clear();
    job.table = std::move(*table);
    return;
  }
  loaded->rows = boost::json::object{};
  job.contents = std::move(*loaded);
  job.table = std::move(*table);
}

} // namespace

void run_restore(restore_job& job) {
  counted_restore counted{&job.progress};
  if (job.from == restore_source::snapshots)
    restore_from_snapshots(job);
  else
    restore_from_table(job);
}

} // namespace bus::internal
