#pragma once

// The lease a bus node's writes to a PostgreSQL database must still hold
// to commit (postgres_lease.hpp): the log's commits (postgres_log) and the
// writes of its lifecycle store (lifecycle_store) check it in their
// transaction, so that a leader stalled past its lease writes nothing once
// another node leads. A plain value: copy it to each store.

#include <cstdint>
#include <string>

namespace bus {

/// The lease a writer must hold to commit (see postgres_log).
struct postgres_fence {
  /// The row of bus_leader that names the lease.
  std::string name;
  /// The token this writer got with the lease.
  std::int64_t token = 0;
};

} // namespace bus
