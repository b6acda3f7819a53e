#pragma once

// A deterministic bus with a supervisor over test models, and helpers to ask
// it things while some actors are kept from running.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/bus_fixture.hpp"
#include "internal/supervisor_state.hpp"

namespace bus::test {

/// A spec whose model fails the projector on its first exception (no
/// retries, no parking): what the supervision tests need, whatever the
/// default recovery policy is.
inline model_spec failing_fast(model_spec spec) {
  spec.recovery.attempts = 1;
  spec.recovery.then = on_poison::stop;
  return spec;
}

struct supervisor_fixture : bus_fixture {
  supervision_policy policy;
  actors::supervisor_actor sup;

  supervisor_fixture() {
    policy.initial_backoff = std::chrono::milliseconds{100};
    policy.max_backoff = std::chrono::seconds{1};
    policy.max_restarts = 3;
    policy.restart_window = std::chrono::seconds{60};
  }

  ~supervisor_fixture() {
    if (sup)
      self->send_exit(sup, caf::exit_reason::user_shutdown);
    run();
  }

  void start(std::vector<model_spec> specs) { start(std::move(specs), bus); }

  void start(std::vector<model_spec> specs, actors::bus_actor on) {
    sup = actors::spawn_supervisor(sys, std::move(on), std::move(specs), policy,
                                   replaying(8));
    run();
  }

  std::vector<actors::projector_status> status() {
    auto result = ask<std::vector<actors::projector_status>>(
      sup, actors::status_atom::value);
    BOOST_REQUIRE(result);
    return *result;
  }

  actors::supervisor_state::slot& slot(std::size_t i) {
    return state_of<actors::supervisor_state>(sup).slots.at(i);
  }

  /// Runs every job but those of `busy`, as if its handler never returned.
  template <class Handle>
  void run_except(const Handle& busy) {
    auto* stuck = dynamic_cast<caf::resumable*>(
      caf::actor_cast<caf::abstract_actor*>(busy));
    sched.run_jobs_filtered([stuck](caf::resumable* r) { return r != stuck; });
  }
};

} // namespace bus::test
