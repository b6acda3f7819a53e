// Opening the PostgreSQL log: the connection and its session settings, the
// schema, the head, and the reconnection after a lost connection.

#include "bus/postgres_log.hpp"

#include <algorithm>
#include <regex>

#include "bus/errc.hpp"
#include "internal/pg_leader.hpp"
#include "internal/pg_wire.hpp"
#include "internal/tail_cache.hpp"

namespace bus {

namespace {

using namespace internal;

// Ids are bytea, not text: an event id is whatever bytes the publisher
// sent, and text would reject a NUL or an invalid UTF-8 sequence. Events
// are stored as the compact records of event_record.hpp, as sqlite_log
// stores them: one bytea per row of consecutive events decodes without a
// JSON parser, and a row per commit, not per event, keeps the table and its
// index small.
constexpr const char* log_schema = R"sql(
CREATE TABLE IF NOT EXISTS bus_events (
  first_seq bigint  PRIMARY KEY,
  count     integer NOT NULL CHECK (count > 0),
  events    bytea   NOT NULL
);
CREATE TABLE IF NOT EXISTS bus_ids (
  id  bytea  PRIMARY KEY,
  seq bigint NOT NULL
);
)sql";

} // namespace

namespace internal {

std::string without_password(const std::string& uri) {
  static const std::regex user_info{R"(^(postgres(ql)?://[^:@/]*):[^@/]*@)"};
  static const std::regex password_param{R"(([?&]password=)[^&]*)"};
  auto result = std::regex_replace(uri, user_info, "$1:***@");
  return std::regex_replace(result, password_param, "$1***");
}

} // namespace internal

postgres_log::postgres_log(std::string uri, durability policy, postgres_options options)
  : uri_(std::move(uri)),
    name_(internal::without_password(uri_)),
    policy_(policy),
    options_(std::move(options)),
    tail_(std::make_unique<tail_cache>(options_.tail_events)) {
  timings_.measured = true;
}

postgres_log::~postgres_log() {
  // Events appended since the last sync were never acknowledged: they go
  // with the session.
  PQfinish(conn_);
}

caf::expected<std::shared_ptr<postgres_log>>
postgres_log::open(const std::string& uri, durability policy,
                   postgres_options options) {
  std::shared_ptr<postgres_log> log{new postgres_log(uri, policy, std::move(options))};
  try {
    log->connect();
    log->exec("BEGIN", "schema");
    checked(log->conn_, PQexec(log->conn_, pg_schema_lock), PGRES_TUPLES_OK, "schema");
    log->exec(log_schema, "schema");
    if (log->options_.fence)
      log->exec(internal::pg_leader_table, "schema");
    log->exec("COMMIT", "schema");
    log->load_head();
  } catch (const storage_error& ex) {
    return make_error(errc::storage_failed, log->name_ + ": " + ex.what());
  }
  return log;
}

void postgres_log::connect() {
  PQfinish(conn_);
  conn_ = nullptr;
  conn_ = internal::pg_connect(uri_, options_.connect_timeout);
  // fsync_interval commits with synchronous_commit=on too: its sync() is
  // where the events become durable.
  exec(policy_.mode() == durability::os_buffered ? "SET synchronous_commit = off"
                                                 : "SET synchronous_commit = on",
       "session");
  auto idle = "SET idle_in_transaction_session_timeout = "
              + std::to_string(options_.idle_in_transaction_timeout.count());
  exec(idle.c_str(), "session");
  // CREATE ... IF NOT EXISTS notices would land on stderr.
  exec("SET client_min_messages = warning", "session");
}

void postgres_log::load_head() {
  // Through the primary key's index: the last row only.
  auto res = checked(conn_,
                     PQexec(conn_, "SELECT first_seq + count - 1 FROM bus_events "
                                   "ORDER BY first_seq DESC LIMIT 1"),
                     PGRES_TUPLES_OK, "load");
  std::uint64_t head = 0;
  if (res.rows() == 1)
    head = std::stoull(std::string{res.value(0, 0)});
  head_ = durable_head_ = head;
  // Events appended by others may follow what the tail holds: start afresh.
  tail_ = std::make_unique<tail_cache>(options_.tail_events);
  pending_ids_.clear();
}

void postgres_log::recover() {
  if (conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK
      && health_.state != store_state::failed)
    return;
  // The session that held them is gone: the events appended since the last
  // sync are too. Their publishers wait for that sync, which must fail.
  lost_pending_ += head_ - durable_head_;
  drop_pending();
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  auto now = [this] {
    return options_.clock ? options_.clock() : std::chrono::steady_clock::now();
  };
  if (auto left = duration_cast<milliseconds>(retry_at_ - now()); left.count() > 0)
    throw storage_error(name_ + ": " + health_.reason
                        + " (the connection is lost; next attempt in "
                        + std::to_string(left.count()) + " ms)");
  try {
    connect();
    load_head();
  } catch (const storage_error& ex) {
    health_ = store_health{store_state::failed, ex.what()};
    backoff_ = backoff_.count() == 0
                 ? options_.reconnect_backoff
                 : std::min(backoff_ * 2, options_.reconnect_backoff_max);
    retry_at_ = now() + backoff_;
    throw storage_error(name_ + ": " + ex.what()
                        + " (the connection is lost; next attempt in "
                        + std::to_string(backoff_.count()) + " ms)");
  }
  backoff_ = milliseconds{0};
  retry_at_ = {};
  health_ = store_health{};
}

void postgres_log::exec(const char* sql, const char* what) const {
  checked(conn_, PQexec(conn_, sql), PGRES_COMMAND_OK, what);
}

void postgres_log::fail(const std::string& what) const {
  throw storage_error(name_ + ": " + what);
}

} // namespace bus
