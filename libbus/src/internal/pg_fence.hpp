#pragma once

// The fence check that every fenced write to PostgreSQL runs first in its
// transaction (postgres_log's commits, the lifecycle store's writes): the
// lease row bus_leader (internal/pg_leader.hpp) must still hold the
// writer's token, unexpired. Throws fence_lost otherwise: the caller rolls
// back, and nothing of the write commits.

#include <string>

#include <libpq-fe.h>

#include "bus/event_log.hpp"
#include "bus/postgres_fence.hpp"

namespace bus::internal {

/// The lease check failed: the transaction must not commit.
class fence_lost : public storage_error {
public:
  using storage_error::storage_error;
};

/// Checks, in the transaction open on `conn`, that the row of bus_leader
/// named by `fence` still holds its token and has not expired, and locks it
/// FOR SHARE until the transaction ends: a new leader's UPDATE of the row
/// waits for this commit, so that nothing of this writer commits after the
/// lease moved. Throws fence_lost ("fenced: another bus node leads ...")
/// when the row does not, pg_error when the statement fails.
void check_fence(PGconn* conn, const postgres_fence& fence);

} // namespace bus::internal
