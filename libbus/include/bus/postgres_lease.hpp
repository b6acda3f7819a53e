#pragma once

// Leadership of a bus whose log is in PostgreSQL. Bus nodes on the same
// log contend for one lease row (table bus_leader, one row per log name):
// the holder leads, the others stand by. A lease lasts `ttl` past its last
// renewal, by the database's clock; a node takes it only when nobody holds
// it, its holder let it expire, or its holder's session is gone, and
// taking it increments the row's fencing token. The log of the leader checks its token
// in every commit (postgres_log's fence), so a leader that was stopped past its lease
// and comes back cannot append another event: its token is no longer the row's. Each
// lease has its own database session. Not thread-safe: owned by one thread at a time.

#include <chrono>
#include <cstdint>
#include <memory>
#include <initializer_list>
#include <optional>
#include <string>

#include <caf/expected.hpp>

struct pg_conn;
struct pg_result;

namespace bus {

/// What a lease is for and who asks for it.
struct lease_options {
  /// The log it leads: bus nodes sharing a database lead different logs
  /// under different names.
  std::string name = "bus";
  /// This node, as the other nodes see it while it leads.
  std::string holder;
  /// How long a lease lasts past its last renewal.
  std::chrono::milliseconds ttl{5000};
};

/// A lease as the database holds it.
struct lease_view {
  std::string holder;
  std::int64_t token = 0;
  /// How long until it expires (zero or less: expired).
  std::chrono::milliseconds remaining{0};
};

class postgres_lease {
public:
  /// Connects to the database at `uri` (a libpq connection URI) and makes
  /// the lease table if it has none. Errors name what failed.
  static caf::expected<std::unique_ptr<postgres_lease>> connect(const std::string& uri,
                                                                lease_options options);

  ~postgres_lease();

  postgres_lease(const postgres_lease&) = delete;
  postgres_lease& operator=(const postgres_lease&) = delete;

  /// Takes the lease when it is free or expired, and returns its new
  /// token. Returns nothing while another node holds it; `seen` then
  /// tells which and for how long.
  caf::expected<std::optional<std::int64_t>> try_acquire(lease_view* seen = nullptr);

  /// Extends the lease this node holds by ttl from now, even past its
  /// expiry if no other node took it meanwhile. Returns false when it is
  /// lost: another node took it.
  caf::expected<bool> renew();

  /// Gives the lease up, so that a standby takes it at once rather than
  /// after ttl (a clean stop of the leader).
  caf::expected<void> release();

  /// Reads the lease (no row yet: token 0 and no holder).
  caf::expected<lease_view> read();

  /// The token of the lease this node took last (0: none yet).
  std::int64_t token() const noexcept { return token_; }

  const lease_options& options() const noexcept { return options_; }

private:
  postgres_lease(pg_conn* db, lease_options options);

  /// Reconnects a session the database or the network dropped.
  caf::expected<void> reconnect();

  /// Makes the lease table (idempotent, also against a node doing the
  /// same at the same time) and sets the session's timeouts.
  caf::expected<void> prepare();

  /// Runs `sql` with the parameters; `what` names it in errors.
  caf::expected<std::shared_ptr<::pg_result>>
  run(const char* what, const char* sql, std::initializer_list<std::string> params);
  pg_conn* db_ = nullptr;
  lease_options options_;
  std::int64_t token_ = 0;
};

} // namespace bus
