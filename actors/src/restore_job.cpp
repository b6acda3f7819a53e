// A projector's restore at start, as its helper runs it (restore_job.hpp):
// nothing here touches the projector, only the job and the model it lends.
// The model's restore code may throw: that is the model saying it cannot
// take this state, as when it returns false, and it is rebuilt from the
// log. Nothing escapes run_restore, whose helper must always report back.

#include "internal/restore_job.hpp"

#include <optional>
#include <string>

#include "bus/actors/detail/json_text.hpp"
#include "bus/errc.hpp"
#include "bus/log.hpp"
#include "bus/snapshot_rows.hpp"
#include "internal/model_code.hpp"

namespace bus::internal {

namespace {

const char* source_name(const restore_job& job) {
  return job.from == restore_source::snapshots ? "snapshot" : "table";
}

// Says why a model that threw is rebuilt from the log: a false says
// nothing, an exception has a text someone must see.
void cannot_restore(const restore_job& job, const std::string& what) {
  BUS_LOG(log_level::warning, "projector",
          "read model '" << job.name << "' threw restoring its " << source_name(job)
                         << " (" << what << "); it is rebuilt from the log");
}

// Restores the claimed snapshot `x` into the job's model; false (the model
// reset) when it cannot, and the model is then rebuilt from the log.
bool restore_snapshot(restore_job& job, snapshot& x) {
  auto& model = *job.model;
  bool took = false;
  auto threw = model_threw([&] {
    if (x.layout == snapshot_layout::rows) {
      // Row by row: the state is never a JSON object beside the model.
      auto restored = restore_rows(model, std::move(x.state), &job.progress);
      took = restored && *restored;
      return;
    }
    boost::json::value state;
    if (bus::detail::parse_json_text(x.state, state))
      return;
    // The text of a large state is freed before the model grows.
    x.state = std::string{};
    took = model.restore(state);
    if (!took)
      model.reset();
  });
  if (!threw)
    return took;
  model.reset(); // if this throws too, run_restore fails the projector
  cannot_restore(job, *threw);
  return false;
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
  // Caught in the sink: it runs inside the table's read of its rows.
  std::optional<std::string> threw;
  auto loaded = (*table)->load(
    [&restorer, &threw](std::string_view key, boost::json::value& value) {
      bool took = false;
      threw = model_threw([&] { took = restorer(key, value); });
      return took; // false: no more rows
    });
  if (restorer.stopped())
    return; // nobody waits for this model any more
  auto took = !threw && restorer.by_row();
  if (loaded && !threw && !took) {
    model.reset();
    loaded = (*table)->load();
  }
  if (!loaded) {
    job.failure = std::move(loaded.error());
    return;
  }
  if (!threw && !took)
    threw = model_threw([&] { took = model.restore(loaded->rows); });
  if (!took) {
    // Rows this model cannot take: start over from the log.
    model.reset();
    if (threw)
      cannot_restore(job, *threw);
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
  // What escapes the model's restore (a reset that throws too, leaving a
  // state nobody knows) fails the projector, which its supervisor restarts
  // with a fresh model.
  auto threw = model_threw([&job] {
    if (job.from == restore_source::snapshots)
      restore_from_snapshots(job);
    else
      restore_from_table(job);
  });
  if (threw)
    job.failure = make_error(errc::apply_failed, "read model '" + job.name
                                                   + "' failed restoring its "
                                                   + source_name(job) + ": " + *threw);
}

} // namespace bus::internal
