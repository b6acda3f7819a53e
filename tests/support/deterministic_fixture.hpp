#pragma once

// A test fixture running an actor system on CAF's testing scheduler: nothing
// runs until the test steps the scheduler, and timeouts fire only when the
// test triggers them. No sleeps, no threads.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "bus/actors/bus_actor.hpp"
#include "bus/actors/init.hpp"
#include "bus/actors/projector.hpp"
#include "bus/actors/supervisor.hpp"
#include "bus/memory_log.hpp"
#include "support/model_state_print.hpp"

namespace bus::test {

inline caf::actor_system_config& testing_config(caf::actor_system_config& cfg) {
  cfg.set("scheduler.policy", caf::atom("testing"));
  cfg.set("logger.verbosity", caf::atom("quiet"));
  bus::init(cfg);
  return cfg;
}

struct deterministic_fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys;
  caf::scheduler::test_coordinator& sched;
  caf::scoped_actor self;

  deterministic_fixture()
    : sys(testing_config(cfg)),
      sched(dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())),
      self(sys) {
    // nop
  }

  ~deterministic_fixture() {
    // A pending timeout would keep actors alive and hang the teardown.
    do
      sched.run();
    while (sched.trigger_timeouts() > 0);
  }

  /// Runs every job until the system is idle.
  void run() { sched.run(); }

  /// Sends a request from a fresh helper actor, runs the system until idle,
  /// and returns the response or the error.
  template <class T, class Handle, class... Ts>
  caf::expected<T> ask(const Handle& dest, Ts&&... xs) {
    auto result = std::make_shared<std::optional<caf::expected<T>>>();
    auto asker = sys.spawn([=](caf::event_based_actor* a) {
      a->request(caf::actor_cast<caf::actor>(dest), caf::infinite, xs...)
        .then([=](T& x) { *result = std::move(x); },
              [=](caf::error& err) { *result = std::move(err); });
    });
    run();
    if (!*result) {
      BOOST_FAIL("no response after running the system to idle");
    }
    return std::move(**result);
  }

  /// Sends a request from a fresh helper actor without running anything;
  /// the answer lands in the returned cell once the test runs the system.
  template <class T, class Handle, class... Ts>
  std::shared_ptr<std::optional<caf::expected<T>>> send_request(const Handle& dest,
                                                                Ts... xs) {
    auto result = std::make_shared<std::optional<caf::expected<T>>>();
    sys.spawn([=](caf::event_based_actor* a) {
      a->request(caf::actor_cast<caf::actor>(dest), caf::infinite, xs...)
        .then([=](T& x) { *result = std::move(x); },
              [=](caf::error& err) { *result = std::move(err); });
    });
    return result;
  }

  /// Reads a typed actor's state directly (tests only).
  template <class State, class Handle>
  State& state_of(const Handle& h) {
    auto ptr = caf::actor_cast<caf::abstract_actor*>(h);
    using impl = typename Handle::template stateful_base<State>;
    return dynamic_cast<impl&>(*ptr).state;
  }
};

/// Makes an event with an explicit id and a payload.
inline event make_event(std::string id, std::string type, boost::json::object payload) {
  event e;
  e.id = std::move(id);
  e.type = std::move(type);
  e.payload = std::move(payload);
  return e;
}

} // namespace bus::test
