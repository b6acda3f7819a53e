#pragma once

// The fixture of the blue/green tests: a supervisor over a fresh snapshot
// store, a model whose factor changes between definitions, and requests
// whose answers a test steps towards one job at a time.

#include <atomic>
#include <filesystem>
#include <unistd.h>

#include "bus/actors/supervisor.hpp"
#include "support/bus_fixture.hpp"
#include "support/sum_model.hpp"
#include "internal/bus_state.hpp"
#include "internal/projector_state.hpp"
#include "internal/supervisor_state.hpp"

namespace bus::test {

using namespace std::chrono_literals;
using namespace bus::actors;

// Sums payload.n times a factor per payload.k and can restore its state;
// its definition() is the default "" (like most C++ models), so only the
// projectors' snapshot hand-over keeps one factor's state from another's.
class scaled_sum final : public sum_model {
public:
  scaled_sum(std::string name, std::int64_t factor)
    : name_(std::move(name)), factor_(factor) {
    // nop
  }

  const std::string& name() const noexcept override { return name_; }

  const std::vector<std::string>& event_types() const noexcept override {
    return types_;
  }

  bool apply(const event& e) override {
    add(e.payload.at("k").as_string(), e.payload.at("n").as_int64() * factor_);
    return true;
  }

private:
  std::string name_;
  std::int64_t factor_;
  std::vector<std::string> types_{"A"};
};

inline model_spec scaled(std::string name, std::int64_t factor) {
  return model_spec{name, [=] { return std::make_unique<scaled_sum>(name, factor); }};
}

inline boost::json::value expected_scaled(const std::vector<event>& log,
                                          std::int64_t factor) {
  boost::json::object result;
  for (auto& e : log) {
    if (e.type != "A")
      continue;
    auto key = e.payload.at("k").as_string();
    auto n = e.payload.at("n").as_int64() * factor;
    if (auto* v = result.if_contains(key))
      *v = v->as_int64() + n;
    else
      result[key] = n;
  }
  return result;
}

// A fresh SQLite file for snapshots, removed afterwards: a member of the
// fixture, so that it outlives the projectors that write it.
struct temp_store {
  std::string path;
  temp_store() {
    static std::atomic<int> counter{0};
    path = (std::filesystem::temp_directory_path()
            / ("bus-blue-green-" + std::to_string(::getpid()) + "-"
               + std::to_string(counter++) + ".snapshots"))
             .string();
  }
  ~temp_store() {
    for (auto suffix : {"", "-journal", "-wal", "-shm"})
      std::filesystem::remove(path + suffix);
  }
};

struct blue_green_fixture : bus_fixture {
  temp_store store;
  supervision_policy policy;
  projector_options options = replaying(8);
  supervisor_actor sup;

  blue_green_fixture() {
    policy.initial_backoff = 100ms;
    policy.max_backoff = 1s;
    policy.max_restarts = 2;
    policy.restart_window = 60s;
  }

  ~blue_green_fixture() {
    if (sup)
      self->send_exit(sup, caf::exit_reason::user_shutdown);
    run();
  }

  void start(std::vector<model_spec> specs) {
    sup = spawn_supervisor(sys, bus, std::move(specs), policy, options);
    run();
  }

  supervisor_state::slot& slot(std::size_t i = 0) {
    return state_of<supervisor_state>(sup).slots.at(i);
  }

  /// Runs one job at a time until `done()`; fails after `limit` jobs.
  template <class F>
  void step_until(F done, std::size_t limit = 100000) {
    for (std::size_t i = 0; !done(); ++i) {
      BOOST_REQUIRE_MESSAGE(i < limit, "condition not reached");
      BOOST_REQUIRE_MESSAGE(sched.try_run_once(), "system idle, condition not reached");
    }
  }

  /// Sends the supervisor a request without running anything; the answer
  /// lands in the returned slot.
  template <class T, class... Ts>
  std::shared_ptr<std::optional<caf::expected<T>>> send_request(Ts... xs) {
    return deterministic_fixture::send_request<T>(sup, xs...);
  }

  caf::expected<projector_status> shadow(model_spec spec,
                                         shadow_wait wait = shadow_wait::start) {
    return ask<projector_status>(sup, shadow_atom::value, std::move(spec), wait);
  }

  caf::expected<projector_status> lifecycle_request(caf::atom_value which,
                                                    const std::string& model) {
    if (which == rollback_atom::value)
      return ask<projector_status>(sup, rollback_atom::value, model);
    return ask<projector_status>(sup, discard_atom::value, model);
  }

  caf::expected<query_result> query(const std::string& model, const std::string& key) {
    return ask<query_result>(sup, query_atom::value, model, key);
  }

  boost::json::value model_state(const std::string& model) {
    auto snap = ask<model_snapshot>(sup, snapshot_atom::value, model);
    BOOST_REQUIRE(snap);
    return snap->state;
  }

  std::vector<projector_status> status() {
    auto result = ask<std::vector<projector_status>>(sup, status_atom::value);
    BOOST_REQUIRE(result);
    return *result;
  }

  /// The status entry of `model` in `role`, or nothing.
  std::optional<projector_status> entry(const std::string& model, model_role role) {
    for (auto& s : status())
      if (s.model == model && s.role == role)
        return s;
    return std::nullopt;
  }

  std::size_t subscribers() { return state_of<bus_state>(bus).subscribers.size(); }

  /// The status of `model`'s shadow, which must be holding its switch.
  projector_status held_shadow(const std::string& model = "m") {
    auto sh = entry(model, model_role::shadow);
    BOOST_REQUIRE(sh);
    BOOST_TEST(sh->state == model_state::parked);
    BOOST_TEST_INFO(sh->last_error);
    return *sh;
  }

  /// Starts model "m" (a tally of "A"), publishes 20 events, switches a
  /// shadow of it in (live), and sends the supervisor a rollback of "m"
  /// without running anything: slot().handle is still the projector that
  /// the rollback pauses. Its answer lands in the returned cell.
  std::shared_ptr<std::optional<caf::expected<projector_status>>> request_rollback() {
    start({tally("m", {"A"})});
    publish(events(0, 20, {"A"}));
    BOOST_REQUIRE(shadow(tally("m", {"A"}), shadow_wait::live));
    run();
    return send_request<projector_status>(rollback_atom::value, std::string{"m"});
  }

  /// Discards `model`'s shadow, which is not started again afterwards, even
  /// once every pending timer has fired.
  void discard_shadow(const std::string& model = "m") {
    auto discarded = lifecycle_request(discard_atom::value, model);
    BOOST_REQUIRE(discarded);
    BOOST_TEST(discarded->role == model_role::shadow);
    BOOST_TEST(!entry(model, model_role::shadow));
    sched.trigger_timeouts();
    run();
    BOOST_TEST(!entry(model, model_role::shadow));
  }
};

} // namespace bus::test
