#pragma once

// What a snapshot_store is made of: the storage behind it, SQLite
// (sqlite_snapshots.cpp) or PostgreSQL (postgres_snapshots.cpp), each with
// the semantics snapshot_store.hpp documents. One backend per connection,
// used by one actor.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <caf/expected.hpp>

#include "bus/snapshot_store.hpp"

namespace bus {

class snapshot_store::backend {
public:
  // The size of one model's stored rows, known once read or written.
  struct rows_sizes {
    std::uint64_t base_bytes = 0;
    std::uint64_t delta_bytes = 0;
    std::int64_t next_part = 1;
  };

  virtual ~backend() = default;

  virtual caf::expected<snapshot_claim> claim(const std::string& model) = 0;

  virtual caf::expected<std::optional<snapshot>> load(const std::string& model) = 0;

  virtual caf::expected<save_outcome> save(const std::string& model, const snapshot& x,
                                           std::uint64_t generation, rows_write how)
    = 0;

  /// Returns the sizes of the stored rows of `model` (zeros without).
  virtual caf::expected<rows_sizes> sizes_of(const std::string& model) = 0;

  /// Checks `cancelled` (may be null) after reading and after folding.
  virtual caf::expected<save_outcome> compact(const std::string& model,
                                              std::uint64_t generation,
                                              const std::atomic<bool>* cancelled)
    = 0;

protected:
  /// True once `cancelled` (may be null) is set.
  static bool given_up(const std::atomic<bool>* cancelled) noexcept {
    return cancelled != nullptr && cancelled->load(std::memory_order_relaxed);
  }
};

} // namespace bus

namespace bus::internal {

/// Opens (or creates) the snapshot tables in the SQLite file at `path`. A
/// write waits up to `busy_timeout` for another process's connection (the
/// connections of this process take turns, see write_turns.hpp).
caf::expected<std::unique_ptr<snapshot_store::backend>> open_sqlite_snapshots(
  const std::string& path,
  std::chrono::milliseconds busy_timeout = std::chrono::seconds{10});

#ifdef BUS_HAS_POSTGRESQL
/// Opens (or creates) the bus_snapshot* tables in the database at `uri`.
caf::expected<std::unique_ptr<snapshot_store::backend>>
open_postgres_snapshots(const std::string& uri);
#endif

} // namespace bus::internal
