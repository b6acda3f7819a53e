#pragma once

// A session on PostgreSQL for the stores beside the log that commit each
// write synchronously (the snapshot store, the model tables): made again
// when lost, with a guard for its transactions and a way to run a write
// that turns its failure into errc::storage_failed. Used by one actor.

#include <string>
#include <utility>

#include <caf/expected.hpp>

#include "bus/errc.hpp"
#include "pg_leader.hpp"
#include "pg_params.hpp"
#include "pg_wire.hpp"

namespace bus::internal {

class pg_session {
public:
  /// A session on `uri`, not yet connected; `context` leads its errors
  /// ("snapshots", "models table of 'orders'").
  pg_session(const std::string& uri, std::string context)
    : uri_(uri), name_(without_password(uri)), context_(std::move(context)) {
    // nop
  }

  ~pg_session() { PQfinish(conn_); }

  pg_session(const pg_session&) = delete;
  pg_session& operator=(const pg_session&) = delete;

  /// Rolls an open transaction back at scope exit unless it was committed.
  class transaction {
  public:
    explicit transaction(pg_session& session, const char* begin = "BEGIN")
      : session_(session) {
      session_.exec(begin, "begin");
    }

    void commit() {
      session_.exec("COMMIT", "commit");
      done_ = true;
    }

    ~transaction() {
      if (!done_)
        PQclear(PQexec(session_.conn_, "ROLLBACK"));
    }

  private:
    pg_session& session_;
    bool done_ = false;
  };

  /// Connects (again); throws storage_error.
  void connect() {
    PQfinish(conn_);
    conn_ = nullptr;
    conn_ = pg_connect(uri_);
    // A write is durable when it returns, as with SQLite's fsync.
    exec("SET synchronous_commit = on", "session");
    // CREATE ... IF NOT EXISTS notices would land on stderr.
    exec("SET client_min_messages = warning", "session");
  }

  /// Runs `f`, turning a storage_error into errc::storage_failed naming the
  /// context, the database and `what`; a lost session is made again first.
  template <class F>
  auto guarded(const std::string& what, F f) -> caf::expected<decltype(f())> {
    try {
      if (PQstatus(conn_) != CONNECTION_OK)
        connect();
      return f();
    } catch (const storage_error& ex) {
      return make_error(errc::storage_failed,
                        context_ + ": " + name_ + ": " + what + ": " + ex.what());
    }
  }

  void exec(const char* sql, const char* what) {
    checked(conn_, PQexec(conn_, sql), PGRES_COMMAND_OK, what);
  }

  pg_result run(const char* sql, const binary_params& ps, const char* what,
                ExecStatusType expected = PGRES_COMMAND_OK) {
    return run_params(conn_, sql, ps, what, expected);
  }

  /// The database, without its password.
  const std::string& name() const noexcept { return name_; }

private:
  std::string uri_;
  std::string name_;
  std::string context_;
  PGconn* conn_ = nullptr;
};

} // namespace bus::internal
