// Status tells a stuck model from a healthy one, and never waits for it.

#include "bus/actors/supervisor.hpp"

#include "internal/health.hpp"
#include "support/supervisor_fixture.hpp"

using namespace std::chrono_literals;
using namespace bus;
using namespace bus::actors;
using namespace bus::test;

BOOST_FIXTURE_TEST_SUITE(supervisor_health, supervisor_fixture)

BOOST_AUTO_TEST_CASE(
  a_projector_that_does_not_answer_is_stalled_and_status_still_answers) {
  policy.status_timeout = 1s;
  start({tally("busy", {"A"}), tally("idle", {"A"})});
  publish(events(0, 5, {"A"}));
  BOOST_TEST(status()[0].checkpoint == 5u); // its last progress, seen now
  sched.advance_time(5s);
  run();
  // Its apply "hangs": its actor never runs again while status is asked.
  auto busy = slot(0).handle;
  auto answer = send_request<std::vector<projector_status>>(sup, status_atom::value);
  run_except(busy);
  BOOST_TEST(!answer->has_value()); // waiting for the busy one...
  sched.advance_time(1s);           // ...until its deadline
  run_except(busy);
  BOOST_REQUIRE(answer->has_value());
  BOOST_REQUIRE(**answer);
  auto& st = ***answer;
  BOOST_REQUIRE_EQUAL(st.size(), 2u);
  BOOST_TEST(st[0].model == "busy");
  BOOST_TEST(st[0].state == model_state::stalled);
  BOOST_TEST(st[0].stalled_ms == 6000); // since its checkpoint last moved
  BOOST_TEST(st[0].checkpoint == 5u);   // the last one known
  BOOST_TEST(st[1].state == model_state::running);
  BOOST_TEST(st[1].stalled_ms == 0);
  // Once it answers again (its late answer is dropped), it is running.
  run();
  auto after = status();
  BOOST_TEST(after[0].state == model_state::running);
  BOOST_TEST(after[0].stalled_ms == 0);
}

// lag_ms is measured from the time of a model's checkpoint: a model too
// busy to answer status (or down) must keep the last one seen, or it shows
// lag_ms 0 just when it falls behind.
BOOST_AUTO_TEST_CASE(a_stalled_model_keeps_the_time_of_its_last_checkpoint) {
  policy.status_timeout = 1s;
  start({tally("busy", {"A"})});
  publish(events(0, 5, {"A"}));
  auto seen = status()[0];
  BOOST_TEST(seen.checkpoint == 5u);
  BOOST_REQUIRE(seen.checkpoint_timestamp != 0);
  auto busy = slot(0).handle;
  auto answer = send_request<std::vector<projector_status>>(sup, status_atom::value);
  run_except(busy);
  sched.advance_time(1s);
  run_except(busy);
  BOOST_REQUIRE(answer->has_value());
  BOOST_REQUIRE(**answer);
  auto& st = ***answer;
  BOOST_TEST(st[0].state == model_state::stalled);
  BOOST_TEST(st[0].checkpoint == 5u);
  BOOST_TEST(st[0].checkpoint_timestamp == seen.checkpoint_timestamp);
  run();
}

BOOST_AUTO_TEST_CASE(
  a_model_behind_the_head_without_progress_is_stalled_after_stall_after) {
  policy.stall_after = 30s;
  // A bus whose log holds 10 events but whose replays never come back: the
  // projector answers status, catching up, and its checkpoint never moves.
  auto stuck_bus = sys.spawn([](caf::event_based_actor* a) -> caf::behavior {
    return {
      [](subscribe_atom, projector_actor&, std::string&, std::vector<std::string>&) {
        return std::uint64_t{10};
      },
      [](unsubscribe_atom, projector_actor&) { return true; },
      [a](replay_atom, std::uint64_t, std::uint32_t) {
        return a->make_response_promise(); // never delivered
      },
      [](head_atom) { return std::uint64_t{10}; },
    };
  });
  start({tally("slow", {"A"})}, caf::actor_cast<bus_actor>(stuck_bus));
  auto st = status();
  BOOST_TEST(st[0].state == model_state::catching_up);
  sched.advance_time(29s);
  run();
  BOOST_TEST(status()[0].state == model_state::catching_up);
  sched.advance_time(1s);
  run();
  st = status();
  BOOST_TEST(st[0].state == model_state::stalled);
  BOOST_TEST(st[0].stalled_ms == 30000);
  BOOST_TEST(st[0].checkpoint == 0u);
  self->send_exit(sup, caf::exit_reason::user_shutdown);
  self->send_exit(stuck_bus, caf::exit_reason::user_shutdown);
  run();
  sup = nullptr;
}

BOOST_AUTO_TEST_CASE(an_idle_model_at_the_head_is_running_however_long_it_waits) {
  policy.stall_after = 30s;
  start({tally("a", {"A"})});
  publish(events(0, 3, {"A"}));
  sched.advance_time(10min);
  run();
  BOOST_TEST(status()[0].state == model_state::running);
}

BOOST_AUTO_TEST_CASE(judging_a_status_parked_paused_and_stalled) {
  supervisor_state::slot s;
  auto t0 = caf::actor_clock::time_point{};
  s.progress_at = t0;
  s.seen_checkpoint = 7;
  auto judged = [&](model_state state, std::uint64_t checkpoint, std::uint64_t parked,
                    caf::timespan since) {
    projector_status ps;
    ps.state = state;
    ps.checkpoint = checkpoint;
    ps.parked = parked;
    bus::internal::judge(ps, s, std::uint64_t{10}, t0 + since, 30s);
    return ps.state;
  };
  // Caught up apart from parked events: parked.
  BOOST_TEST(judged(model_state::running, 10, 2, 1min) == model_state::parked);
  BOOST_TEST(judged(model_state::running, 10, 0, 1min) == model_state::running);
  // Behind without progress: stalled, but only once stall_after has passed.
  BOOST_TEST(judged(model_state::running, 7, 0, 29s) == model_state::running);
  BOOST_TEST(judged(model_state::catching_up, 7, 0, 30s) == model_state::stalled);
  BOOST_TEST(judged(model_state::running, 7, 3, 30s) == model_state::stalled);
  // Paused or disconnected on purpose: their own state.
  BOOST_TEST(judged(model_state::paused, 7, 0, 1h) == model_state::paused);
  BOOST_TEST(judged(model_state::disconnected, 7, 0, 1h) == model_state::disconnected);
}

BOOST_AUTO_TEST_SUITE_END()
