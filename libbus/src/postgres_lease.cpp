#include "bus/postgres_lease.hpp"

#include <vector>

#include <libpq-fe.h>

#include "bus/errc.hpp"
#include "internal/pg_leader.hpp"
#include "internal/pg_wire.hpp"

namespace bus {

namespace {

using result_ptr = std::shared_ptr<::pg_result>;

std::string ms(std::chrono::milliseconds x) {
  return std::to_string(x.count());
}

// The states of a SQL error that another node making the table at the
// same moment causes (unique_violation on the catalog, duplicate_table).
bool raced_on_create(const PGresult* res) {
  auto* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
  return state != nullptr
         && (std::string_view{state} == "23505" || std::string_view{state} == "42P07");
}

} // namespace

postgres_lease::postgres_lease(PGconn* db, lease_options options)
  : db_(db), options_(std::move(options)) {
  // Nothing else.
}

postgres_lease::~postgres_lease() {
  if (db_ != nullptr)
    PQfinish(db_);
}

caf::expected<std::unique_ptr<postgres_lease>>
postgres_lease::connect(const std::string& uri, lease_options options) {
  if (options.ttl < std::chrono::milliseconds{100})
    return make_error(errc::invalid_config, "a lease lasts at least 100 ms");
  auto* db = PQconnectdb(uri.c_str());
  if (PQstatus(db) != CONNECTION_OK) {
    auto why = internal::pg_message(db);
    PQfinish(db);
    return make_error(errc::storage_failed,
                      internal::without_password(uri)
                        + ": cannot connect to PostgreSQL: " + why);
  }
  std::unique_ptr<postgres_lease> lease{new postgres_lease(db, std::move(options))};
  if (auto ok = lease->prepare(); !ok)
    return std::move(ok.error());
  return lease;
}

caf::expected<void> postgres_lease::prepare() {
  // Never wait on a lock or a statement for longer than half a lease:
  // a standby must come back to try again, a leader to step down in time.
  auto limit = ms(options_.ttl / 2);
  // client_min_messages: no NOTICE on stderr when the table exists.
  auto settings = "SET lock_timeout = " + limit + "; SET statement_timeout = " + limit
                  + "; SET client_min_messages = warning";
  result_ptr set{PQexec(db_, settings.c_str()), PQclear};
  if (PQresultStatus(set.get()) != PGRES_COMMAND_OK)
    return make_error(errc::storage_failed, "cannot set the lease session's timeouts: "
                                              + internal::pg_message(db_));
  for (int attempt = 0;; ++attempt) {
    result_ptr made{PQexec(db_, internal::pg_leader_table), PQclear};
    if (PQresultStatus(made.get()) == PGRES_COMMAND_OK)
      return {};
    if (attempt > 0 || !raced_on_create(made.get()))
      return make_error(errc::storage_failed,
                        "cannot make the lease table: " + internal::pg_message(db_));
  }
}

caf::expected<void> postgres_lease::reconnect() {
  if (PQstatus(db_) == CONNECTION_OK)
    return {};
  PQreset(db_);
  if (PQstatus(db_) != CONNECTION_OK)
    return make_error(errc::storage_failed, "lost the connection to PostgreSQL: "
                                              + internal::pg_message(db_));
  return prepare();
}

caf::expected<result_ptr>
postgres_lease::run(const char* what, const char* sql,
                    std::initializer_list<std::string> params) {
  if (auto ok = reconnect(); !ok)
    return std::move(ok.error());
  std::vector<const char*> values;
  for (auto& x : params)
    values.push_back(x.c_str());
  result_ptr res{PQexecParams(db_, sql, static_cast<int>(values.size()), nullptr,
                              values.data(), nullptr, nullptr, 0),
                 PQclear};
  auto status = PQresultStatus(res.get());
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK)
    return make_error(errc::storage_failed,
                      std::string{"cannot "} + what + ": " + internal::pg_message(db_));
  return res;
}

caf::expected<std::optional<std::int64_t>>
postgres_lease::try_acquire(lease_view* seen) {
  // Taking the lease and counting the token up is one statement: standbys
  // racing for it serialize on the row, and one wins. It is free once it
  // expired, or at once when the session of its holder is gone (a killed
  // process: the database closed its session); the session is named by
  // its backend's pid and start, as pids are reused.
  auto taken = run("take the lease",
                   "INSERT INTO bus_leader AS l (name, holder, token, expires_at, "
                   "holder_pid, holder_since) VALUES ($1, $2, 1, clock_timestamp() "
                   "+ $3::bigint * interval '1 ms', pg_backend_pid(), (SELECT "
                   "backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid())) "
                   "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, "
                   "token = l.token + 1, expires_at = excluded.expires_at, "
                   "holder_pid = excluded.holder_pid, "
                   "holder_since = excluded.holder_since "
                   "WHERE l.expires_at <= clock_timestamp() OR NOT EXISTS (SELECT 1 "
                   "FROM pg_stat_activity a WHERE a.pid = l.holder_pid "
                   "AND a.backend_start = l.holder_since) RETURNING l.token",
                   {options_.name, options_.holder, ms(options_.ttl)});
  if (!taken)
    return std::move(taken.error());
  if (PQntuples(taken->get()) == 1) {
    token_ = std::stoll(PQgetvalue(taken->get(), 0, 0));
    return token_;
  }
  if (seen != nullptr) {
    auto view = read();
    if (!view)
      return std::move(view.error());
    *seen = std::move(*view);
  }
  return std::optional<std::int64_t>{};
}

caf::expected<bool> postgres_lease::renew() {
  if (token_ == 0)
    return false;
  // Expired or not, the lease is still this node's while its token is the
  // row's (taking it counts the token up): a database back after an outage
  // longer than the lease finds its leader still leading.
  auto renewed = run("renew the lease",
                     "UPDATE bus_leader SET expires_at = clock_timestamp() "
                     "+ $3::bigint * interval '1 ms', holder_pid = pg_backend_pid(), "
                     "holder_since = (SELECT backend_start FROM pg_stat_activity "
                     "WHERE pid = pg_backend_pid()) WHERE name = $1 AND token = $2 "
                     "RETURNING token",
                     {options_.name, std::to_string(token_), ms(options_.ttl)});
  if (!renewed)
    return std::move(renewed.error());
  return PQntuples(renewed->get()) == 1;
}

caf::expected<void> postgres_lease::release() {
  if (token_ == 0)
    return {};
  auto released = run("release the lease",
                      "UPDATE bus_leader SET expires_at = clock_timestamp() "
                      "- interval '1 ms' WHERE name = $1 AND token = $2",
                      {options_.name, std::to_string(token_)});
  if (!released)
    return std::move(released.error());
  return {};
}

caf::expected<lease_view> postgres_lease::read() {
  auto row = run("read the lease",
                 "SELECT holder, token, (extract(epoch FROM expires_at "
                 "- clock_timestamp()) * 1000)::bigint FROM bus_leader WHERE name = $1",
                 {options_.name});
  if (!row)
    return std::move(row.error());
  lease_view view;
  if (PQntuples(row->get()) == 1) {
    view.holder = PQgetvalue(row->get(), 0, 0);
    view.token = std::stoll(PQgetvalue(row->get(), 0, 1));
    view.remaining = std::chrono::milliseconds{
      std::stoll(PQgetvalue(row->get(), 0, 2))};
  }
  return view;
}

} // namespace bus
