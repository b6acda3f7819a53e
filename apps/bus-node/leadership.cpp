#include "leadership.hpp"

#include "bus/errc.hpp"
#include "bus/log.hpp"

namespace bus::node {

namespace {

using clock_type = std::chrono::steady_clock;

std::int64_t ns_of(clock_type::time_point x) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(x.time_since_epoch())
    .count();
}

// How long before its end a lease stops counting as confirmed: the
// database's clock and ours may run at slightly different rates, and a
// standby takes the lease the moment the database says it expired.
std::chrono::milliseconds margin_of(std::chrono::milliseconds ttl) {
  return ttl / 5;
}

} // namespace

caf::expected<led_log> lead_log(const std::string& uri, durability policy,
                                lease_options options) {
  auto poll = options.ttl / 5;
  std::string last_said;
  auto say = [&](log_level level, const std::string& what) {
    if (what != last_said)
      BUS_LOG(level, "bus-node", what);
    last_said = what;
  };
  led_log result;
  bool reached = false;
  while (!result.lease) {
    auto connected = postgres_lease::connect(uri, options);
    if (!connected) {
      if (!reached || code_of(connected.error()) == errc::invalid_config)
        return std::move(connected.error());
      say(log_level::warning,
          "standing by, the database is unreachable: " + context_of(connected.error()));
      std::this_thread::sleep_for(poll);
      continue;
    }
    reached = true;
    auto& lease = *connected;
    while (true) {
      lease_view seen;
      auto asked_at = std::chrono::steady_clock::now();
      auto taken = lease->try_acquire(&seen);
      if (taken && *taken) {
        result.lease = std::move(lease);
        result.taken_at = asked_at;
        break;
      }
      if (!taken)
        say(log_level::warning,
            "standing by, cannot read the lease: " + context_of(taken.error()));
      else
        say(log_level::info, "standing by: " + seen.holder + " leads the log '"
                               + options.name + "' (lease token "
                               + std::to_string(seen.token) + ")");
      std::this_thread::sleep_for(poll);
    }
  }
  BUS_LOG(log_level::info, "bus-node",
          "leading the log '" << options.name << "' (lease token "
                              << result.lease->token() << ", " << options.ttl.count()
                              << " ms)");
  postgres_options fenced;
  fenced.fence = postgres_fence{options.name, result.lease->token()};
  auto opened = postgres_log::open(uri, policy, fenced);
  if (!opened)
    return std::move(opened.error());
  result.log = std::move(*opened);
  return result;
}

lease_keeper::lease_keeper(std::unique_ptr<postgres_lease> lease,
                           clock_type::time_point taken_at, lead_confirmed confirmed,
                           listener on_change)
  : lease_(std::move(lease)),
    token_(lease_->token()),
    on_change_(std::move(on_change)),
    confirmed_(std::move(confirmed)) {
  confirm(taken_at);
  thread_ = std::thread{[this] { run(); }};
}

lease_keeper::~lease_keeper() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  if (state_ != lead_state::lost)
    if (auto released = lease_->release(); !released)
      BUS_LOG(log_level::warning, "bus-node",
              "could not release the lease: " << context_of(released.error()));
}

void lease_keeper::confirm(clock_type::time_point renewed_at) {
  auto ttl = lease_->options().ttl;
  confirmed_->store(ns_of(renewed_at + ttl - margin_of(ttl)));
}

void lease_keeper::set(lead_state next, const std::string& why) {
  if (next == state_)
    return;
  state_ = next;
  if (next != lead_state::leading)
    confirmed_->store(0);
  on_change_(next, why);
}

void lease_keeper::run() {
  auto ttl = lease_->options().ttl;
  std::unique_lock<std::mutex> guard{mtx_};
  while (!wake_.wait_for(guard, ttl / 3, [this] { return stopping_; })) {
    guard.unlock();
    // The lease counts from before the request: the database renewed it
    // no earlier than that.
    auto sent = clock_type::now();
    auto renewed = lease_->renew();
    if (renewed && *renewed) {
      confirm(sent);
      set(lead_state::leading,
          "renewed the lease (token " + std::to_string(token_) + ")");
    } else if (renewed) {
      auto holder = lease_->read();
      set(lead_state::lost, "another bus node took the lead of the log"
                              + (holder ? " (" + holder->holder + ", token "
                                            + std::to_string(holder->token) + ")"
                                        : std::string{}));
      return;
    } else if (ns_of(clock_type::now()) >= confirmed_->load()) {
      set(lead_state::unsure,
          "could not renew the lease in time: " + context_of(renewed.error()));
    }
    guard.lock();
  }
}

} // namespace bus::node
