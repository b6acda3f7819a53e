// A failed model does not stay failed until the process restarts: the
// supervisor retries it after a cool-down, and an operator can restart it.

#include "bus/actors/supervisor.hpp"

#include "bus/errc.hpp"
#include "support/supervisor_fixture.hpp"
#include "internal/bus_state.hpp"

using namespace std::chrono_literals;
using namespace bus;
using namespace bus::actors;
using namespace bus::test;

namespace {

struct restart_fixture : supervisor_fixture {
  /// Fails every start of "buggy" until cleared: each incarnation throws on
  /// seq 4.
  std::shared_ptr<fault_plan> faults = std::make_shared<fault_plan>(fault_plan{4, -1});

  /// Starts "buggy" and "steady" and drives "buggy" through its restart
  /// budget until it is failed.
  void fail_for_good() {
    start({failing_fast(tally("buggy", {"A"}, faults)), tally("steady", {"A"})});
    publish(events(0, 6, {"A"}));
    for (int i = 0; i < 10 && slot(0).state == model_state::restarting; ++i) {
      sched.advance_time(policy.max_backoff);
      run();
    }
    BOOST_REQUIRE(slot(0).state == model_state::failed);
  }

  caf::expected<projector_status> restart(const std::string& model) {
    return ask<projector_status>(sup, restart_atom::value, model);
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(supervisor_restart, restart_fixture)

BOOST_AUTO_TEST_CASE(cooldown_doubles_up_to_the_maximum) {
  policy.cooldown = 10s;
  policy.max_cooldown = 35s;
  BOOST_TEST(cooldown_delay(policy, 0).count() == caf::timespan{10s}.count());
  BOOST_TEST(cooldown_delay(policy, 1).count() == caf::timespan{20s}.count());
  BOOST_TEST(cooldown_delay(policy, 2).count() == caf::timespan{35s}.count());
  BOOST_TEST(cooldown_delay(policy, 40).count() == caf::timespan{35s}.count());
}

BOOST_AUTO_TEST_CASE(
  a_failed_model_is_retried_after_the_cooldown_and_closes_once_caught_up) {
  policy.cooldown = 10s;
  policy.max_cooldown = 40s;
  fail_for_good();
  auto restarts = status()[0].restarts;
  BOOST_TEST(restarts == policy.max_restarts);
  // Half-open: one retry after the cool-down; it fails again, so it waits
  // twice as long before the next one.
  sched.advance_time(10s);
  run();
  auto st = status();
  BOOST_TEST(st[0].state == model_state::failed);
  BOOST_TEST(st[0].restarts == restarts + 1);
  sched.advance_time(19s);
  run();
  BOOST_TEST(status()[0].restarts == restarts + 1);
  sched.advance_time(1s);
  run();
  BOOST_TEST(status()[0].restarts == restarts + 2);
  BOOST_TEST(status()[0].state == model_state::failed);
  // The bug is fixed (say, the data it choked on was repaired): the next
  // retry catches up and the model runs again.
  faults->times = 0;
  sched.advance_time(40s);
  run();
  st = status();
  BOOST_TEST(st[0].state == model_state::running);
  BOOST_TEST(st[0].checkpoint == 6u);
  BOOST_TEST(st[0].restarts == restarts + 3);
  auto fold = expected_tally(whole_log(), {"A"});
  auto snap = ask<model_snapshot>(sup, snapshot_atom::value, std::string{"buggy"});
  BOOST_REQUIRE(snap);
  BOOST_TEST(snap->state == fold);
  // With a fresh budget: the next failure is restarted, not failed.
  faults->throw_on_seq = 8;
  faults->times = 1;
  publish(events(6, 3, {"A"}));
  BOOST_TEST(status()[0].state == model_state::restarting);
}

BOOST_AUTO_TEST_CASE(without_a_cooldown_a_failed_model_stays_failed) {
  policy.cooldown = 0ms;
  fail_for_good();
  faults->times = 0;
  sched.advance_time(24h);
  run();
  BOOST_TEST(status()[0].state == model_state::failed);
  BOOST_TEST(status()[0].restarts == policy.max_restarts);
}

BOOST_AUTO_TEST_CASE(operator_restart_of_a_failed_model_starts_it_with_a_fresh_budget) {
  policy.cooldown = 0ms;
  fail_for_good();
  faults->times = 0;
  auto restarted = restart("buggy");
  BOOST_REQUIRE(restarted);
  BOOST_TEST(restarted->model == "buggy");
  BOOST_TEST(restarted->state == model_state::running);
  BOOST_TEST(restarted->checkpoint == 6u);
  auto st = status();
  BOOST_TEST(st[0].state == model_state::running);
  BOOST_TEST(st[1].state == model_state::running);
  // A fresh budget: the next failure is restarted after the first backoff.
  faults->throw_on_seq = 7;
  faults->times = 1;
  publish(events(6, 2, {"A"}));
  BOOST_TEST(status()[0].state == model_state::restarting);
  sched.advance_time(policy.initial_backoff);
  run();
  BOOST_TEST(status()[0].state == model_state::running);
  BOOST_TEST(status()[0].checkpoint == 8u);
}

BOOST_AUTO_TEST_CASE(operator_restart_of_a_running_model_replaces_its_projector) {
  start({tally("a", {"A"}), tally("b", {"A"})});
  publish(events(0, 10, {"A"}));
  auto old = slot(0).handle;
  auto restarted = restart("a");
  BOOST_REQUIRE(restarted);
  BOOST_TEST(restarted->state == model_state::running);
  BOOST_TEST(restarted->checkpoint == 10u);
  BOOST_TEST((slot(0).handle != old));
  BOOST_TEST(static_cast<bool>(slot(0).handle));
  // Only the new projector is subscribed for it, and it goes on live.
  BOOST_TEST(state_of<bus_state>(bus).subscribers.size() == 2u);
  auto ack = publish(events(10, 2, {"A"}));
  BOOST_TEST(ack.models.size() == 2u);
  auto snap = ask<model_snapshot>(sup, snapshot_atom::value, std::string{"a"});
  BOOST_REQUIRE(snap);
  BOOST_TEST(snap->state == expected_tally(whole_log(), {"A"}));
  BOOST_TEST(status()[0].restarts == 0u); // restarts count failures only
}

BOOST_AUTO_TEST_CASE(operator_restart_of_an_unknown_model_names_it) {
  start({tally("a", {"A"})});
  auto r = restart("ghost");
  BOOST_REQUIRE(!r);
  BOOST_TEST(code_of(r.error()) == errc::no_such_model);
  BOOST_TEST(context_of(r.error()).find("ghost") != std::string::npos);
}

// Two operators restarting one model: the second restart stops the
// projector the first one started before it caught up. Both are answered
// by the projector that runs in the end, neither with an error.
BOOST_AUTO_TEST_CASE(a_restart_during_another_restarts_catch_up_answers_both) {
  start({tally("a", {"A"})});
  publish(events(0, 10, {"A"}));
  auto old = slot(0).handle;
  auto first = send_request<projector_status>(sup, restart_atom::value,
                                              std::string{"a"});
  for (int i = 0; i < 1000 && (!slot(0).handle || slot(0).handle == old); ++i)
    sched.run_once();
  auto started = slot(0).handle;
  BOOST_REQUIRE(started && started != old);
  auto second = send_request<projector_status>(sup, restart_atom::value,
                                               std::string{"a"});
  run();
  BOOST_REQUIRE(*first);
  BOOST_REQUIRE(*second);
  BOOST_TEST((slot(0).handle != started)); // the second restart did replace it
  BOOST_REQUIRE_MESSAGE(**first, "the first restart failed");
  BOOST_REQUIRE_MESSAGE(**second, "the second restart failed");
  BOOST_TEST((***first).state == model_state::running);
  BOOST_TEST((***first).checkpoint == 10u);
  BOOST_TEST((***second).checkpoint == 10u);
}

// A lifecycle request that reached a projector a restart was replacing
// got CAF's "exit_reason(user_shutdown)" (on a bus node: "node ... is
// unreachable"), which said neither what happened nor whether it took.
BOOST_AUTO_TEST_CASE(a_request_to_a_projector_a_restart_replaced_says_so) {
  start({tally("a", {"A"})});
  publish(events(0, 10, {"A"}));
  auto restarted = send_request<projector_status>(sup, restart_atom::value,
                                                  std::string{"a"});
  auto rebuilt = send_request<projector_status>(sup, rebuild_atom::value,
                                                std::string{"a"});
  auto paused = send_request<projector_status>(sup, pause_atom::value,
                                               std::string{"a"});
  run();
  BOOST_REQUIRE(*restarted);
  BOOST_REQUIRE(**restarted);
  for (auto* answer : {&rebuilt, &paused}) {
    BOOST_REQUIRE(**answer);
    if (***answer)
      continue; // it reached the new projector: fine too
    auto& err = (***answer).error();
    BOOST_TEST(code_of(err) == errc::model_unavailable, to_string(err));
    BOOST_TEST(context_of(err).find("did not take effect") != std::string::npos);
  }
}

BOOST_AUTO_TEST_SUITE_END()
