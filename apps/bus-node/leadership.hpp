#pragma once

// How a bus node on a PostgreSQL log leads it (bus/postgres_lease.hpp):
// it stands by until it takes the lease, then keeps it with a thread that
// renews it every third of its length. The node answers requests only
// while its lease is confirmed: a renewal that fails leaves it unsure until
// one succeeds again (the database may be down); another node taking the
// lease loses it for good.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <caf/expected.hpp>

#include "bus/leadership.hpp"
#include "bus/postgres_lease.hpp"
#include "bus/postgres_log.hpp"

namespace bus::node {

using bus::lead_state;

/// Until when, on the steady clock, the node may answer as the leader (in
/// nanoseconds since the clock's epoch; 0: not at all). Shared by the
/// lease keeper, which moves it, and the session, which reads it.
using lead_confirmed = std::shared_ptr<std::atomic<std::int64_t>>;

/// A log on PostgreSQL that this node leads.
struct led_log {
  std::shared_ptr<postgres_log> log;
  std::unique_ptr<postgres_lease> lease;
  /// When the lease was asked for: it lasts at least ttl from then.
  std::chrono::steady_clock::time_point taken_at;
};

/// Stands by until this node takes the lease of the log at `uri`, logging
/// which node leads meanwhile, then opens the log fenced by the lease's
/// token. Fails when the database cannot be reached at first (a wrong URI
/// is likelier than an outage) or the log cannot be opened; retries the
/// lease after later database errors.
caf::expected<led_log> lead_log(const std::string& uri, durability policy,
                                lease_options options);

/// The lease as the admin endpoint shows it: written by the keeper's
/// listener, read by the endpoint's actor.
class lease_board {
public:
  explicit lease_board(leadership initial) : value_(std::move(initial)) {
    // nop
  }

  void set(lead_state state, const std::string& why) {
    std::lock_guard<std::mutex> guard{mtx_};
    value_.state = state;
    value_.why = why;
  }

  leadership get() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return value_;
  }

private:
  mutable std::mutex mtx_;
  leadership value_;
};

/// Renews a lease taken by lead_log, in a thread of its own.
class lease_keeper {
public:
  /// Told, from the keeper's thread, each time the state changes and why.
  using listener = std::function<void(lead_state, const std::string&)>;

  /// Starts keeping `lease`, taken at `taken_at`, moving `confirmed`.
  lease_keeper(std::unique_ptr<postgres_lease> lease,
               std::chrono::steady_clock::time_point taken_at, lead_confirmed confirmed,
               listener on_change);

  /// Stops the thread and releases the lease if it still holds it, so a
  /// standby takes over at once.
  ~lease_keeper();

  lease_keeper(const lease_keeper&) = delete;
  lease_keeper& operator=(const lease_keeper&) = delete;

  /// Until when the node may answer (see lead_confirmed).
  const lead_confirmed& confirmed() const noexcept { return confirmed_; }

  /// The fencing token of the lease (for the log's commits).
  std::int64_t token() const noexcept { return token_; }

private:
  void run();
  void set(lead_state next, const std::string& why);
  void confirm(std::chrono::steady_clock::time_point renewed_at);

  std::unique_ptr<postgres_lease> lease_;
  std::int64_t token_;
  listener on_change_;
  lead_confirmed confirmed_;
  lead_state state_ = lead_state::leading;
  std::mutex mtx_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

} // namespace bus::node
