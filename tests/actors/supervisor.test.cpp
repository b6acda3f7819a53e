#include "bus/actors/supervisor.hpp"

#include "bus/errc.hpp"
#include "bus/partitions.hpp"
#include "support/supervisor_fixture.hpp"
#include "internal/bus_state.hpp"

using namespace std::chrono_literals;
using namespace bus;
using namespace bus::actors;
using namespace bus::test;

namespace {

// The shared fixture without the cool-down: cases that want the retry
// after one set it.
struct supervisor_cases : supervisor_fixture {
  supervisor_cases() { policy.cooldown = 0ms; }

  boost::json::value snapshot(const std::string& model) {
    auto snap = ask<model_snapshot>(sup, snapshot_atom::value, model);
    BOOST_REQUIRE(snap);
    return snap->state;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(supervisor, supervisor_cases)

BOOST_AUTO_TEST_CASE(projectors_of_a_killed_supervisor_stop_too) {
  // Found by bus-sim: a kill skips the supervisor's exit handler, and its
  // projectors lived on, retrying a bus nobody would rebind them to.
  start({tally("a", {"A"}), tally("b", {"B"})});
  BOOST_TEST(state_of<bus_state>(bus).subscribers.size() == 2u);
  self->send_exit(sup, caf::exit_reason::kill);
  run();
  BOOST_TEST(state_of<bus_state>(bus).subscribers.empty());
  sup = nullptr;
}

BOOST_AUTO_TEST_CASE(backoff_doubles_up_to_the_maximum) {
  BOOST_TEST(backoff_delay(policy, 0).count() == caf::timespan{100ms}.count());
  BOOST_TEST(backoff_delay(policy, 1).count() == caf::timespan{200ms}.count());
  BOOST_TEST(backoff_delay(policy, 3).count() == caf::timespan{800ms}.count());
  BOOST_TEST(backoff_delay(policy, 4).count() == caf::timespan{1s}.count());
  BOOST_TEST(backoff_delay(policy, 60).count() == caf::timespan{1s}.count());
}

BOOST_AUTO_TEST_CASE(failed_projector_restarts_after_backoff_and_replays_to_the_fold) {
  // "fragile" throws once, on the 7th event; "steady" never does.
  auto faults = std::make_shared<fault_plan>(fault_plan{7, 1});
  start({tally("fragile", {"A", "B"}, faults), tally("steady", {"A"})});
  publish(events(0, 10, {"A", "B", "C"}));
  auto st = status();
  BOOST_TEST(st[0].state == model_state::restarting);
  BOOST_TEST(st[0].last_error.find("seq 7") != std::string::npos);
  BOOST_TEST(st[1].state == model_state::running);
  // While it is down, queries name the model instead of hanging.
  auto q = ask<query_result>(sup, query_atom::value, std::string{"fragile"},
                             std::string{"key0"});
  BOOST_REQUIRE(!q);
  BOOST_TEST(code_of(q.error()) == errc::model_unavailable);
  BOOST_TEST(context_of(q.error()).find("fragile") != std::string::npos);
  // Events published while it is down stay in the log for its replay.
  publish(events(10, 10, {"A", "B", "C"}));
  // Not before the backoff has passed...
  sched.advance_time(99ms);
  run();
  BOOST_TEST(status()[0].state == model_state::restarting);
  // ...and right after it.
  sched.advance_time(1ms);
  run();
  st = status();
  BOOST_TEST(st[0].state == model_state::running);
  BOOST_TEST(st[0].restarts == 1u);
  BOOST_TEST(st[0].checkpoint == 20u);
  auto log_events = whole_log();
  BOOST_TEST(snapshot("fragile") == expected_tally(log_events, {"A", "B"}));
  BOOST_TEST(snapshot("steady") == expected_tally(log_events, {"A"}));
  // And it keeps running live afterwards.
  publish(events(20, 6, {"A", "B", "C"}));
  BOOST_TEST(snapshot("fragile") == expected_tally(whole_log(), {"A", "B"}));
}

BOOST_AUTO_TEST_CASE(projector_over_its_restart_budget_stays_down_others_go_on) {
  // A deterministic bug: every incarnation throws on seq 4.
  auto faults = std::make_shared<fault_plan>(fault_plan{4, -1});
  start({tally("buggy", {"A"}, faults), tally("steady", {"A"})});
  publish(events(0, 6, {"A"}));
  // Each restart replays, hits seq 4 again and fails again.
  for (int i = 0; i < 10 && status()[0].state == model_state::restarting; ++i) {
    sched.trigger_timeout();
    run();
  }
  auto st = status();
  BOOST_TEST(st[0].state == model_state::failed);
  BOOST_TEST(st[0].restarts == policy.max_restarts);
  BOOST_TEST(st[0].last_error.find("injected fault") != std::string::npos);
  BOOST_TEST(st[1].state == model_state::running);
  publish(events(6, 4, {"A"}));
  BOOST_TEST(snapshot("steady") == expected_tally(whole_log(), {"A"}));
  auto q = ask<query_result>(sup, query_atom::value, std::string{"buggy"},
                             std::string{"key0"});
  BOOST_REQUIRE(!q);
  BOOST_TEST(code_of(q.error()) == errc::model_unavailable);
  // No timer is left behind for a model that stays down: firing every
  // pending one (status requests' deadlines among them) starts nothing.
  sched.trigger_timeouts();
  run();
  st = status();
  BOOST_TEST(st[0].state == model_state::failed);
  BOOST_TEST(st[0].restarts == policy.max_restarts);
}

BOOST_AUTO_TEST_CASE(specs_a_config_file_would_refuse_stay_failed_and_say_why) {
  // They ran: 5,000 projectors for a model asking for 5,000 partitions,
  // two models acknowledged under one name, and a model whose name()
  // differs from its spec's, which queries reached and acks did not name.
  auto many = tally("many", {"A"});
  many.partitions = max_partitions + 1;
  auto renamed = tally("renamed", {"A"});
  renamed.make = [] { return tally("other", {"A"}).make(); };
  start({many, tally("dup", {"A"}), tally("dup", {"A"}), renamed});
  for (int i = 0; i < 10 && status()[3].state != model_state::failed; ++i) {
    sched.trigger_timeout();
    run();
  }
  auto st = status();
  BOOST_REQUIRE_EQUAL(st.size(), 4u);
  BOOST_TEST(st[0].state == model_state::failed);
  BOOST_TEST(st[0].last_error.find("1 to 1024") != std::string::npos, st[0].last_error);
  BOOST_TEST(st[1].state == model_state::running);
  BOOST_TEST(st[2].state == model_state::failed);
  BOOST_TEST(st[2].last_error.find("a second read model named 'dup'")
             != std::string::npos);
  BOOST_TEST(st[3].state == model_state::failed);
  BOOST_TEST(st[3].last_error.find("named 'other'") != std::string::npos,
             st[3].last_error);
  auto ack = publish(events(0, 2, {"A"}));
  BOOST_REQUIRE_EQUAL(ack.models.size(), 1u);
  BOOST_TEST(ack.models[0].model == "dup");
}

BOOST_AUTO_TEST_CASE(restarts_outside_the_window_do_not_count) {
  policy.max_restarts = 1;
  policy.restart_window = 10s;
  auto faults = std::make_shared<fault_plan>(fault_plan{2, 1});
  start({tally("p", {"A"}, faults)});
  publish(events(0, 3, {"A"}));
  sched.advance_time(100ms);
  run();
  BOOST_TEST(status()[0].state == model_state::running);
  // A second, unrelated failure much later is again within budget.
  faults->throw_on_seq = 5;
  faults->times = 1;
  sched.advance_time(20s);
  publish(events(3, 3, {"A"}));
  BOOST_TEST(status()[0].state == model_state::restarting);
  sched.advance_time(100ms); // the backoff starts over, too
  run();
  BOOST_TEST(status()[0].state == model_state::running);
  BOOST_TEST(snapshot("p") == expected_tally(whole_log(), {"A"}));
}

BOOST_AUTO_TEST_CASE(ready_answers_once_every_projector_has_caught_up) {
  publish(events(0, 40, {"A"}));
  // Not run yet: the projectors have not even subscribed.
  sup = spawn_supervisor(sys, bus,
                         std::vector<model_spec>{tally("a", {"A"}), tally("b", {"A"})},
                         policy, replaying(8));
  auto ready = ask<std::vector<projector_status>>(sup, ready_atom::value);
  BOOST_REQUIRE(ready);
  BOOST_REQUIRE_EQUAL(ready->size(), 2u);
  for (auto& s : *ready) {
    BOOST_TEST(s.state == model_state::running);
    BOOST_TEST(s.checkpoint == 40u);
  }
  // From then on a publish is applied by both before it is acknowledged.
  auto ack = publish(events(40, 1, {"A"}));
  BOOST_TEST(ack.models.size() == 2u);
}

BOOST_AUTO_TEST_CASE(unknown_model_is_reported_by_name) {
  start({tally("p", {"A"})});
  auto q = ask<query_result>(sup, query_atom::value, std::string{"ghost"},
                             std::string{"k"});
  BOOST_REQUIRE(!q);
  BOOST_TEST(code_of(q.error()) == errc::no_such_model);
  BOOST_TEST(context_of(q.error()).find("ghost") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(shutdown_stops_every_projector) {
  start({tally("a", {"A"}), tally("b", {"B"})});
  BOOST_TEST(state_of<bus_state>(bus).subscribers.size() == 2u);
  self->send_exit(sup, caf::exit_reason::user_shutdown);
  run();
  BOOST_TEST(state_of<bus_state>(bus).subscribers.empty());
  sup = nullptr;
}

BOOST_AUTO_TEST_SUITE_END()
