#pragma once

// The durable event log on PostgreSQL (libpq), beside sqlite_log: the same
// guarantees, on a server that several bus nodes may reach.
//
// Tables (created if missing, in the connection's search_path):
//   bus_events(first_seq bigint PRIMARY KEY, count integer, events bytea)
//     a row holds the compact records (src/internal/event_record.hpp) of
//     consecutive events under the seq of the first one;
//   bus_ids(id bytea PRIMARY KEY, seq bigint)
//     every id of the log, written in the same transaction as its row.
// Seqs are assigned in the writer, head + 1 on, never by a database
// sequence (a rolled-back transaction would leave a gap in one). A second
// writer that appends from the same head collides on the primary key of
// bus_events (its first row starts at the same seq): its transaction
// rolls back whole, it throws storage_error and reloads its head from the
// database, so seqs stay dense and unique whoever writes.
//
// Appended batches reach the database at sync(), one transaction with one
// COPY per table; under fsync_each_batch (synchronous_commit=on) and
// os_buffered (synchronous_commit=off: survives a crash of the node, may
// lose the last commits to a crash of the server) append() syncs itself;
// under fsync_interval the owner calls sync() every interval (the bus
// actor sooner, once bus_options::sync_after_events wait) and
// acknowledges nothing past durable_head() before. An owner that asks
// (defer_syncs(), as the bus actor does) syncs under the other two
// policies too, one commit covering all it appended meanwhile. A failed commit drops
// the events appended since the last sync (head() back to durable_head())
// and throws storage_error.
//
// A lost connection fails the store (store_state::failed, with the reason)
// until a later append(), which first reconnects and reloads the head from
// the database (sync() does not: it fails while the connection is lost);
// the store is healthy again once that works. Each attempt may block for
// the connection timeout; there is no back-off between attempts. Nothing
// durable is lost either way; the events appended since the last sync
// (fsync_interval) go with the lost session, and the next sync() fails for
// them as a failed commit would.
//
// With a fence (postgres_options::fence) every commit first checks, in its
// transaction, that the row of bus_leader(name text PRIMARY KEY, holder
// text, token bigint, expires_at timestamptz) named by the fence still
// holds this writer's token and has not expired, and locks it FOR SHARE
// until the commit: a leader that takes over (an UPDATE of the row) waits
// for that commit, and every later commit of this writer fails. A failed
// check rolls back, throws storage_error ("fenced: ...") and sets
// store_state::fenced. Owned by one actor at a time; not thread-safe.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <caf/expected.hpp>

#include "bus/event_log.hpp"
#include "bus/postgres_fence.hpp"
#include "bus/sqlite_log.hpp" // durability

struct pg_conn;

namespace bus::internal {
class tail_cache;
} // namespace bus::internal

namespace bus {

/// How postgres_log::open sets up the log.
struct postgres_options {
  /// Events of the recent tail kept in memory.
  std::size_t tail_events = 16384;
  /// When set, every commit checks the lease first.
  std::optional<postgres_fence> fence;
  /// The server ends a session idle for longer inside a transaction, so that
  /// a stopped process cannot hold locks (or the lease's row) for ever.
  std::chrono::milliseconds idle_in_transaction_timeout{30000};
  /// How long a connection attempt may take (libpq's connect_timeout, in
  /// whole seconds; a URI's own connect_timeout wins).
  std::chrono::seconds connect_timeout{5};
  /// After a reconnection failed, appends fail at once, without trying,
  /// for this long; the wait doubles after each failed try, up to
  /// reconnect_backoff_max. So while the database is down the bus blocks
  /// on a connection attempt (up to connect_timeout) at most once per
  /// period instead of on every publish.
  std::chrono::milliseconds reconnect_backoff{100};
  std::chrono::milliseconds reconnect_backoff_max{2000};
  /// The clock of the back-off (the steady clock when unset; tests set
  /// their own).
  std::function<std::chrono::steady_clock::time_point()> clock;
};

class postgres_log final : public event_log {
public:
  /// Connects to the database at `uri`, creates the tables if missing and
  /// loads the head. Errors name the database (the URI without password).
  static caf::expected<std::shared_ptr<postgres_log>>
  open(const std::string& uri, durability policy = durability::fsync_each_batch,
       postgres_options options = {});

  ~postgres_log() override;

  postgres_log(const postgres_log&) = delete;
  postgres_log& operator=(const postgres_log&) = delete;

  std::optional<std::uint64_t> find(std::string_view id) const override;
  event_batch read(std::uint64_t from, std::size_t max) const override;
  std::uint64_t head() const noexcept override { return head_; }
  std::uint64_t durable_head() const noexcept override { return durable_head_; }
  void sync() override;
  std::chrono::milliseconds sync_interval() const noexcept override {
    return policy_.interval();
  }
  bool defer_syncs() noexcept override {
    syncs_deferred_ = true;
    return true;
  }

  /// Returns the policy the log was opened with.
  durability policy() const noexcept { return policy_; }

  /// Returns the URI the log was opened with, its password hidden.
  const std::string& name() const noexcept { return name_; }

  /// Commit times of this log (it measures no fsync of its own).
  store_timings timings() const override { return timings_; }

  /// Failed while the connection is lost, fenced after a failed lease
  /// check, healthy otherwise (see store_state).
  store_health health() const override { return health_; }

protected:
  append_result do_append(std::vector<event> batch) override;

private:
  postgres_log(std::string uri, durability policy, postgres_options options);

  // The connection (postgres_log_open.cpp).
  void connect();
  void load_head();
  void exec(const char* sql, const char* what) const;
  void recover();
  [[noreturn]] void fail(const std::string& what) const;

  /// Returns the seqs the database gives `ids` (an id it lacks is left out).
  std::unordered_map<std::string, std::uint64_t>
  find_in_db(const std::vector<const std::string*>& ids) const;

  /// Decodes up to `n` durable events from `from` on.
  shared_events decode_rows(std::uint64_t from, std::size_t n) const;

  /// Checks the lease in the open transaction; throws when it is gone.
  void check_fence();

  /// Writes the events past durable_head_ and their ids (in a transaction
  /// opened by the caller).
  void write_pending();

  /// Forgets every appended event past durable_head_.
  void drop_pending() noexcept;

  std::string uri_;
  std::string name_;
  durability policy_;
  // Set by defer_syncs(): the owner syncs, append() never does.
  bool syncs_deferred_ = false;
  postgres_options options_;
  store_timings timings_;
  store_health health_;
  pg_conn* conn_ = nullptr;
  /// The recent events, and every event not yet committed.
  std::unique_ptr<internal::tail_cache> tail_;
  /// The ids of the events not yet committed.
  std::unordered_map<std::string, std::uint64_t> pending_ids_;
  std::uint64_t head_ = 0;
  std::uint64_t durable_head_ = 0;
  /// Events appended since the last sync that a reconnection dropped: the
  /// next sync() must fail for them, as if its commit had failed.
  std::uint64_t lost_pending_ = 0;
  /// No reconnection is tried before this (after a failed one).
  std::chrono::steady_clock::time_point retry_at_{};
  /// The wait after the last failed reconnection (0: none failed).
  std::chrono::milliseconds backoff_{0};
};

} // namespace bus
