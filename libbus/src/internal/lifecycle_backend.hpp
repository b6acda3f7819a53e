#pragma once

// What a lifecycle_store is made of: a SQLite file (lifecycle_store.cpp) or
// a PostgreSQL database (postgres_lifecycle.cpp), with the semantics
// lifecycle_store.hpp documents.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "bus/lifecycle_store.hpp"

namespace bus {

class lifecycle_store::backend {
public:
  virtual ~backend() = default;

  virtual caf::expected<std::vector<paused_model>> pauses() = 0;

  virtual caf::error set_paused(const std::string& model, bool paused,
                                std::optional<std::uint64_t> frozen_at)
    = 0;

  virtual caf::expected<std::vector<kept_partition>> partition_intents() = 0;

  virtual caf::error keep_partition_intent(const kept_partition& x) = 0;

  virtual caf::error forget_partition_intents(const std::string& model) = 0;

  virtual bool fenced() const noexcept = 0;
};

} // namespace bus

namespace bus::internal {

/// Milliseconds since the epoch, as paused_at keeps them.
std::int64_t paused_at_now();

/// The columns of a row of partition_intents, as read: frozen_at none when
/// NULL.
struct partition_intent_row {
  std::string model;
  std::int64_t partition_index = 0;
  std::int64_t partition_count = 0;
  std::string intent;
  std::optional<std::int64_t> frozen_at;
};

/// Turns `row` into what it keeps, or an errc::storage_failed naming the
/// row and what is wrong with it (read from `where`).
caf::expected<kept_partition> kept_partition_of(const partition_intent_row& row,
                                                const std::string& where);

#ifdef BUS_HAS_POSTGRESQL
/// Creates the bus_paused_models and bus_partition_intents tables in the
/// database at `uri`; with `fence`, each write checks it first.
caf::expected<std::unique_ptr<lifecycle_store::backend>>
open_postgres_lifecycle(const std::string& uri, std::optional<postgres_fence> fence);
#endif

} // namespace bus::internal
