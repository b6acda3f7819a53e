#pragma once

// The operator's lasting choices about read models, kept so that they
// survive restarts of a projector and of the node: which models are paused.
// A pause is an operator's decision, not state a projector can rebuild from
// the log, so it lives beside the snapshots, not in them: in a SQLite file,
// or in the PostgreSQL database of a postgresql:// location (the log's, so
// that a standby taking the lead keeps the leader's pauses).
//
// Schema: paused_models (model TEXT PRIMARY KEY, paused_at INTEGER,
// frozen_at INTEGER) in SQLite, bus_paused_models (model text PRIMARY KEY,
// paused_at bigint, frozen_at bigint) on PostgreSQL (paused_at:
// milliseconds since the epoch; frozen_at: the checkpoint of the state the
// model answered queries from when paused, NULL if it answered none).
// Stores made before frozen_at get the column when opened.
//
// A bus node that projector nodes attach to keeps there too what the
// operator wants of each partition of a model the nodes share (its
// directory's pauses, docs/distributed.md "Pauses move with the
// partitions"), so that a restarted bus, or a standby taking the lead,
// sends them with its first assignments: partition_intents (model TEXT,
// partition_index INTEGER, partition_count INTEGER, intent TEXT ('run' or
// 'pause'), frozen_at INTEGER, kept_at INTEGER, PRIMARY KEY (model,
// partition_index)) in SQLite, bus_partition_intents with the same columns
// on PostgreSQL. Stores made before it get the table when opened.
//
// Opened with a fence (a PostgreSQL location only: the lease by which a bus
// node leads the log in that database, postgres_fence.hpp), every write
// runs in a transaction that first checks the lease, as the log's commits
// do: once another node leads, or the lease expired, the write is refused
// with errc::storage_failed ("fenced: another bus node leads ...") and
// changes nothing, so a leader stalled past its lease never leaves a stale
// pause for the next one to obey. Without a fence writes are not checked.
// Owned by one actor at a time; not thread-safe.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "bus/postgres_fence.hpp"

namespace bus {

/// A paused model, and where its frozen state is.
struct paused_model {
  std::string name;
  /// The checkpoint of the state it answered queries from when paused
  /// (none: it answered none, or it was paused before this was kept).
  std::optional<std::uint64_t> frozen_at;
};

/// What the operator wants of one partition of a model that projector nodes
/// share, as a bus's directory keeps it (actors::partition_intent is its
/// form between nodes).
enum class kept_intent : std::uint8_t {
  /// Runs: never paused, or resumed.
  run,
  /// Paused: the node that runs it holds it at `frozen_at`.
  pause,
};

/// Returns "run" or "pause", as the store keeps them.
const char* to_string(kept_intent x) noexcept;

/// Returns the intent `x` names ("run" or "pause"), or none.
std::optional<kept_intent> kept_intent_from_string(std::string_view x) noexcept;

/// What a bus's directory keeps of one partition of a shared model.
struct kept_partition {
  std::string model;
  std::uint32_t partition = 0;
  /// How many partitions the model ran as then: with another count, its
  /// partitions hold other keys, and this no longer applies.
  std::uint32_t partitions = 0;
  kept_intent intent = kept_intent::run;
  /// Paused: the checkpoint of the state it answered queries from (none:
  /// it answered none).
  std::optional<std::uint64_t> frozen_at;
};

class lifecycle_store {
public:
  /// The storage behind the store (internal/lifecycle_backend.hpp).
  class backend;

  /// Opens (or creates) the table in the SQLite file at `location`, or in
  /// the database of a PostgreSQL URI, whose writes then check `fence` when
  /// given (errc::invalid_config with a SQLite location).
  static caf::expected<std::unique_ptr<lifecycle_store>>
  open(const std::string& location, std::optional<postgres_fence> fence = std::nullopt);

  ~lifecycle_store();

  lifecycle_store(const lifecycle_store&) = delete;
  lifecycle_store& operator=(const lifecycle_store&) = delete;

  /// The paused models, by name.
  caf::expected<std::vector<std::string>> paused() const;

  /// The paused models, by name, and where their frozen states are.
  caf::expected<std::vector<paused_model>> pauses() const;

  /// Records `model` as paused (durably), or as no longer paused. Paused,
  /// `frozen_at` is the checkpoint of the state it answers queries from.
  caf::error set_paused(const std::string& model, bool paused,
                        std::optional<std::uint64_t> frozen_at = std::nullopt);

  /// The partitions' intents a bus's directory kept, by model and
  /// partition. Fails with errc::storage_failed naming the first row that
  /// holds no intent (an unknown intent, a partition out of its count), so
  /// that a damaged row is never taken for a pause or a run.
  caf::expected<std::vector<kept_partition>> partition_intents() const;

  /// Keeps `x` durably, replacing what was kept of its partition.
  caf::error keep_partition_intent(const kept_partition& x);

  /// Forgets every partition's intent kept of `model`.
  caf::error forget_partition_intents(const std::string& model);

  /// Returns whether the last write was refused by the fence (another bus
  /// node leads): the caller must not report it done. False without one.
  bool fenced() const noexcept;

private:
  explicit lifecycle_store(std::unique_ptr<backend> impl);

  std::unique_ptr<backend> backend_;
};

} // namespace bus
