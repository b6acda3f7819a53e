// The PostgreSQL backend of lifecycle_store: the paused models in
// bus_paused_models, and a bus directory's partition intents in
// bus_partition_intents, in the log's database, so that a standby taking
// the lead keeps what the operator paused on the leader. Pauses change
// rarely: one statement each, committed synchronously. Opened with a fence
// (the lease of the bus node that leads the log), each write is a
// transaction that checks it first, as the log's commits do
// (internal/pg_fence.hpp).

#include <optional>
#include <string>
#include <vector>

#include "bus/errc.hpp"
#include "internal/lifecycle_backend.hpp"
#include "internal/pg_fence.hpp"
#include "internal/pg_leader.hpp"
#include "internal/pg_wire.hpp"

namespace bus::internal {

namespace {

// Under the schema lock (pg_schema_lock, internal/pg_wire.hpp), taken by
// the caller in the same transaction: nodes and projectors creating their
// tables at once would otherwise collide in the catalog.
constexpr const char* paused_models_schema = R"sql(
CREATE TABLE IF NOT EXISTS bus_paused_models (
  model     text   PRIMARY KEY,
  paused_at bigint NOT NULL,
  frozen_at bigint
);
ALTER TABLE bus_paused_models ADD COLUMN IF NOT EXISTS frozen_at bigint;
CREATE TABLE IF NOT EXISTS bus_partition_intents (
  model           text    NOT NULL,
  partition_index integer NOT NULL,
  partition_count integer NOT NULL,
  intent          text    NOT NULL,
  frozen_at       bigint,
  kept_at         bigint  NOT NULL,
  PRIMARY KEY (model, partition_index)
);
)sql";

class postgres_lifecycle final : public lifecycle_store::backend {
public:
  postgres_lifecycle(const std::string& uri, std::optional<postgres_fence> fence)
    : uri_(uri), name_(without_password(uri)), fence_(std::move(fence)) {
    // nop
  }

  ~postgres_lifecycle() override { PQfinish(conn_); }

  caf::error open() {
    return error_of(guarded("opening", [&] {
      exec("BEGIN", PGRES_COMMAND_OK);
      exec(pg_schema_lock, PGRES_TUPLES_OK);
      exec(paused_models_schema, PGRES_COMMAND_OK);
      // The fence's table, whoever comes first (the lease makes it too).
      if (fence_)
        exec(pg_leader_table, PGRES_COMMAND_OK);
      exec("COMMIT", PGRES_COMMAND_OK);
      return true;
    }));
  }

  caf::expected<std::vector<paused_model>> pauses() override {
    return guarded("reading the paused models", [&] {
      auto res = exec("SELECT model, frozen_at FROM bus_paused_models ORDER BY model",
                      PGRES_TUPLES_OK);
      std::vector<paused_model> result;
      for (int row = 0; row < res.rows(); ++row) {
        auto& x = result.emplace_back();
        x.name = std::string{res.value(row, 0)};
        if (PQgetisnull(res.get(), row, 1) == 0)
          x.frozen_at = std::stoull(std::string{res.value(row, 1)});
      }
      return result;
    });
  }

  caf::error set_paused(const std::string& model, bool paused,
                        std::optional<std::uint64_t> frozen_at) override {
    return written(
      paused ? "pausing '" + model + "'" : "resuming '" + model + "'", [&] {
        auto at = std::to_string(paused_at_now());
        auto frozen = frozen_at ? std::to_string(*frozen_at) : std::string{};
        const char* values[] = {model.c_str(), at.c_str(),
                                frozen_at ? frozen.c_str() : nullptr};
        int lengths[] = {static_cast<int>(model.size()), static_cast<int>(at.size()),
                         static_cast<int>(frozen.size())};
        int formats[] = {1, 0, 0};
        auto sql = paused ? "INSERT INTO bus_paused_models (model, "
                            "paused_at, frozen_at) VALUES ($1::text, $2::bigint, "
                            "$3::bigint) ON CONFLICT (model) DO UPDATE SET "
                            "paused_at = EXCLUDED.paused_at, "
                            "frozen_at = EXCLUDED.frozen_at"
                          : "DELETE FROM bus_paused_models WHERE "
                            "model = $1::text";
        checked(conn_,
                PQexecParams(conn_, sql, paused ? 3 : 1, nullptr, values, lengths,
                             formats, 0),
                PGRES_COMMAND_OK, "set_paused");
      });
  }

  caf::expected<std::vector<kept_partition>> partition_intents() override {
    auto read = guarded("reading the partition intents", [&] {
      auto res = exec("SELECT model, partition_index, partition_count, intent, "
                      "frozen_at FROM bus_partition_intents ORDER BY model, "
                      "partition_index",
                      PGRES_TUPLES_OK);
      std::vector<partition_intent_row> rows;
      for (int row = 0; row < res.rows(); ++row) {
        auto& x = rows.emplace_back();
        x.model = std::string{res.value(row, 0)};
        x.partition_index = std::stoll(std::string{res.value(row, 1)});
        x.partition_count = std::stoll(std::string{res.value(row, 2)});
        x.intent = std::string{res.value(row, 3)};
        if (PQgetisnull(res.get(), row, 4) == 0)
          x.frozen_at = std::stoll(std::string{res.value(row, 4)});
      }
      return rows;
    });
    if (!read)
      return std::move(read.error());
    std::vector<kept_partition> result;
    for (auto& row : *read) {
      auto kept = kept_partition_of(row, name_ + ": bus_partition_intents");
      if (!kept)
        return std::move(kept.error());
      result.push_back(std::move(*kept));
    }
    return result;
  }

  caf::error keep_partition_intent(const kept_partition& x) override {
    auto what = "keeping the intent of partition " + std::to_string(x.partition)
                + " of '" + x.model + "'";
    return written(what, [&] {
      auto index = std::to_string(x.partition);
      auto count = std::to_string(x.partitions);
      std::string intent = to_string(x.intent);
      auto frozen = x.frozen_at ? std::to_string(*x.frozen_at) : std::string{};
      auto at = std::to_string(paused_at_now());
      const char* values[] = {x.model.c_str(),
                              index.c_str(),
                              count.c_str(),
                              intent.c_str(),
                              x.frozen_at ? frozen.c_str() : nullptr,
                              at.c_str()};
      int lengths[] = {static_cast<int>(x.model.size()), 0, 0, 0, 0, 0};
      int formats[] = {1, 0, 0, 0, 0, 0};
      checked(conn_,
              PQexecParams(conn_,
                           "INSERT INTO bus_partition_intents (model, partition_index, "
                           "partition_count, intent, frozen_at, kept_at) VALUES "
                           "($1::text, $2::integer, $3::integer, $4::text, "
                           "$5::bigint, $6::bigint) ON CONFLICT (model, "
                           "partition_index) DO UPDATE SET partition_count = "
                           "EXCLUDED.partition_count, intent = EXCLUDED.intent, "
                           "frozen_at = EXCLUDED.frozen_at, kept_at = "
                           "EXCLUDED.kept_at",
                           6, nullptr, values, lengths, formats, 0),
              PGRES_COMMAND_OK, "keep_partition_intent");
    });
  }

  caf::error forget_partition_intents(const std::string& model) override {
    return written("forgetting the partition intents of '" + model + "'", [&] {
      const char* values[] = {model.c_str()};
      int lengths[] = {static_cast<int>(model.size())};
      int formats[] = {1};
      checked(conn_,
              PQexecParams(conn_,
                           "DELETE FROM bus_partition_intents WHERE model = $1::text",
                           1, nullptr, values, lengths, formats, 0),
              PGRES_COMMAND_OK, "forget_partition_intents");
    });
  }

  bool fenced() const noexcept override { return fenced_; }

private:
  static caf::error error_of(caf::expected<bool> x) {
    return x ? caf::error{} : std::move(x.error());
  }

  // Runs the write `f` (statements on conn_) through guarded(); with a
  // fence, in a transaction that checks it first, so that nothing of `f`
  // commits once another node leads.
  template <class F>
  caf::error written(const std::string& what, F f) {
    auto refused = false;
    auto result = guarded(what, [&] {
      refused = false;
      if (!fence_) {
        f();
        return true;
      }
      try {
        exec("BEGIN", PGRES_COMMAND_OK);
        check_fence(conn_, *fence_);
        f();
        exec("COMMIT", PGRES_COMMAND_OK);
      } catch (const storage_error& ex) {
        refused = dynamic_cast<const fence_lost*>(&ex) != nullptr;
        rollback();
        throw;
      }
      return true;
    });
    fenced_ = refused;
    return error_of(std::move(result));
  }

  // Ends the transaction a failed write left open, if the session lives.
  void rollback() noexcept {
    if (PQstatus(conn_) == CONNECTION_OK && PQtransactionStatus(conn_) != PQTRANS_IDLE)
      PQclear(PQexec(conn_, "ROLLBACK"));
  }

  // Runs `f` on a live connection, turning a storage_error into
  // errc::storage_failed. A session found lost (the server restarted, an
  // administrator ended it) is made again and `f` run once more: every
  // statement here may run twice.
  template <class F>
  auto guarded(const std::string& what, F f) -> caf::expected<decltype(f())> {
    try {
      if (PQstatus(conn_) != CONNECTION_OK)
        connect();
      try {
        return f();
      } catch (const storage_error&) {
        if (PQstatus(conn_) == CONNECTION_OK)
          throw;
      }
      connect();
      return f();
    } catch (const storage_error& ex) {
      return make_error(errc::storage_failed,
                        "lifecycle store: " + name_ + ": " + what + ": " + ex.what());
    }
  }

  void connect() {
    PQfinish(conn_);
    conn_ = nullptr;
    conn_ = pg_connect(uri_);
    // A pause is durable when set_paused() returns.
    exec("SET synchronous_commit = on; SET client_min_messages = warning",
         PGRES_COMMAND_OK);
    // A stopped process must not hold the lease's row (locked by the fence
    // check) for ever: the server ends its session, as it does the log's.
    if (fence_)
      exec("SET idle_in_transaction_session_timeout = 30000", PGRES_COMMAND_OK);
  }

  // Runs `sql` (one or more statements); the last one's result must have
  // the status `expected`.
  pg_result exec(const char* sql, ExecStatusType expected) {
    return checked(conn_, PQexec(conn_, sql), expected, "statement");
  }

  std::string uri_;
  std::string name_;
  std::optional<postgres_fence> fence_;
  // The last write was refused by the fence.
  bool fenced_ = false;
  PGconn* conn_ = nullptr;
};

} // namespace

caf::expected<std::unique_ptr<lifecycle_store::backend>>
open_postgres_lifecycle(const std::string& uri, std::optional<postgres_fence> fence) {
  auto result = std::make_unique<postgres_lifecycle>(uri, std::move(fence));
  if (auto err = result->open())
    return err;
  return std::unique_ptr<lifecycle_store::backend>{std::move(result)};
}

} // namespace bus::internal
