#pragma once

// What a lifecycle_store is made of: a SQLite file (lifecycle_store.cpp) or
// a PostgreSQL database (postgres_lifecycle.cpp), with the semantics
// lifecycle_store.hpp documents.

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
};

} // namespace bus

namespace bus::internal {

/// Milliseconds since the epoch, as paused_at keeps them.
std::int64_t paused_at_now();

#ifdef BUS_HAS_POSTGRESQL
/// Creates the bus_paused_models table in the database at `uri`.
caf::expected<std::unique_ptr<lifecycle_store::backend>>
open_postgres_lifecycle(const std::string& uri);
#endif

} // namespace bus::internal
