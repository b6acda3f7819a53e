#pragma once

// What the log and the lease on PostgreSQL share: the lease row of a log
// (postgres_lease.hpp), made by the lease and by a fenced postgres_log
// alike, whichever comes first; and how both name a database in messages.

#include <string>

namespace bus::internal {

/// The URI without its password, for messages and logs.
std::string without_password(const std::string& uri);

/// holder_pid and holder_since name the holder's session (its backend's pid
/// and start), so that a standby sees when the holder's process is gone.
constexpr const char* pg_leader_table = R"sql(
CREATE TABLE IF NOT EXISTS bus_leader (
  name         text        PRIMARY KEY,
  holder       text        NOT NULL,
  token        bigint      NOT NULL,
  expires_at   timestamptz NOT NULL,
  holder_pid   integer     NOT NULL DEFAULT 0,
  holder_since timestamptz
);
)sql";

} // namespace bus::internal
