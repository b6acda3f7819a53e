#pragma once

// A projector's restore at start (its latest snapshot, or its table, loaded
// into its model), run off the CAF workers: a restore of millions of rows
// takes seconds, and on a worker it held that worker, so that with a
// restore per worker nothing else ran, the supervisor and the admin surface
// included. The projector meanwhile answers status ("restoring") and
// queries (refused), and keeps every other request until the job is done
// (projector_restore.cpp).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <caf/error.hpp>

#include "bus/model_table.hpp"
#include "bus/read_model.hpp"
#include "bus/restore_progress.hpp"
#include "bus/snapshot_store.hpp"

namespace bus::internal {

/// Where a restore reads the model's state from.
enum class restore_source : std::uint8_t {
  /// The snapshot store (projector_options::snapshot_path).
  snapshots,
  /// The model's table (projector_options::models_path).
  table,
};

/// One restore, shared by the projector and the helper that runs it. The
/// helper writes the outcome, then tells the projector (restored_atom),
/// which reads it: the message orders the two.
struct restore_job {
  restore_source from = restore_source::snapshots;
  /// The projector's model, lent to the job until it is done: owned here,
  /// it outlives a projector killed meanwhile (a kill runs no handler).
  read_model_ptr model;
  /// The snapshot store's or the models database's location.
  std::string path;
  std::string name;
  std::string definition;
  /// This model's counts; they also go to the process's, kept alive here.
  restore_progress progress;
  std::shared_ptr<restore_progress> total;

  // -- outcome ---------------------------------------------------------------

  /// Why the restore failed (the projector then fails with it): the store,
  /// or an exception from the model that left it in a state nobody knows.
  caf::error failure;
  /// Snapshots: the generation they were claimed under, and the snapshot
  /// restored (its state text freed); none when the model starts empty.
  std::uint64_t generation = 0;
  std::optional<snapshot> restored;
  /// Table: the table, and what it held besides its rows; no contents
  /// when the model starts empty (the table was cleared).
  std::unique_ptr<model_table> table;
  std::optional<table_contents> contents;
};

/// The name of the actor that runs a restore (a detached one, or a job of
/// the deterministic test scheduler).
inline constexpr const char* restore_helper_name = "projector_restore";

/// Runs `job` where the caller is (a helper off the workers, or a job of
/// the deterministic test scheduler): claims and restores the snapshot, or
/// opens and loads the table. Throws nothing: a model whose restore throws
/// is rebuilt from the log, as one whose restore returns false; one that
/// then cannot even reset sets `failure`.
void run_restore(restore_job& job);

} // namespace bus::internal
