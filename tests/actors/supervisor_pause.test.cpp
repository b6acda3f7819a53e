// A pause is an operator's decision: it holds across restarts of the
// model's projector (a crash, an operator's restart) and, with a lifecycle
// file, across restarts of the node, until a resume.

#include "bus/actors/supervisor.hpp"

#include "bus/lifecycle_store.hpp"
#include "support/sqlite_scratch.hpp"
#include "support/supervisor_fixture.hpp"

using namespace std::chrono_literals;
using namespace bus;
using namespace bus::actors;
using namespace bus::test;

namespace {

struct pause_fixture : supervisor_fixture {
  sqlite_scratch scratch{"bus-pause-test-", "node.lifecycle"};

  /// Starts a supervisor over "m" and "other" that keeps pauses in the
  /// scratch file, as a node with --store does.
  void start_keeping_pauses() {
    auto options = replaying(8);
    options.lifecycle_path = scratch.path;
    sup = spawn_supervisor(
      sys, bus, std::vector<model_spec>{tally("m", {"A"}), tally("other", {"A"})},
      policy, options);
    run();
  }

  /// Stops the supervisor and its projectors, as a node's shutdown does.
  void stop_supervisor() {
    self->send_exit(sup, caf::exit_reason::user_shutdown);
    run();
    sup = nullptr;
  }

  model_state state_of_model(const std::string& name) {
    for (auto& s : status())
      if (s.model == name)
        return s.state;
    BOOST_FAIL("no model " << name);
    return model_state::failed;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(supervisor_pause, pause_fixture)

BOOST_AUTO_TEST_CASE(an_operator_restart_keeps_the_model_paused) {
  start({tally("m", {"A"})});
  publish(events(0, 3, {"A"}));
  BOOST_REQUIRE(ask<projector_status>(sup, pause_atom::value, std::string{"m"}));
  BOOST_REQUIRE(ask<projector_status>(sup, restart_atom::value, std::string{"m"}));
  run();
  auto st = status();
  BOOST_TEST(st[0].state == model_state::paused);
  // Paused: what is published now waits in the log for the resume.
  publish(events(3, 4, {"A"}));
  BOOST_TEST(status()[0].checkpoint < 7u);
  auto resumed = ask<projector_status>(sup, resume_atom::value, std::string{"m"});
  BOOST_REQUIRE(resumed);
  BOOST_TEST(resumed->state == model_state::running);
  BOOST_TEST(resumed->checkpoint == 7u);
}

BOOST_AUTO_TEST_CASE(a_crashed_paused_projector_comes_back_paused) {
  start({tally("m", {"A"})});
  BOOST_REQUIRE(ask<projector_status>(sup, pause_atom::value, std::string{"m"}));
  self->send_exit(slot(0).handle, caf::make_error(caf::sec::runtime_error));
  run();
  sched.advance_time(policy.max_backoff);
  run();
  BOOST_TEST(status()[0].restarts == 1u);
  BOOST_TEST(status()[0].state == model_state::paused);
}

BOOST_AUTO_TEST_CASE(a_resume_ends_the_pause_for_later_restarts) {
  start({tally("m", {"A"})});
  BOOST_REQUIRE(ask<projector_status>(sup, pause_atom::value, std::string{"m"}));
  BOOST_REQUIRE(ask<projector_status>(sup, resume_atom::value, std::string{"m"}));
  BOOST_REQUIRE(ask<projector_status>(sup, restart_atom::value, std::string{"m"}));
  run();
  BOOST_TEST(status()[0].state == model_state::running);
}

BOOST_AUTO_TEST_CASE(a_pause_survives_a_restart_of_the_node) {
  start_keeping_pauses();
  publish(events(0, 3, {"A"}));
  BOOST_REQUIRE(ask<projector_status>(sup, pause_atom::value, std::string{"m"}));
  stop_supervisor();
  publish(events(3, 2, {"A"}));
  start_keeping_pauses();
  BOOST_TEST(state_of_model("m") == model_state::paused);
  BOOST_TEST(state_of_model("other") == model_state::running);
  // The resume is kept too: the next start runs the model.
  BOOST_REQUIRE(ask<projector_status>(sup, resume_atom::value, std::string{"m"}));
  BOOST_TEST(state_of_model("m") == model_state::running);
  stop_supervisor();
  start_keeping_pauses();
  BOOST_TEST(state_of_model("m") == model_state::running);
  auto st = status();
  BOOST_TEST(st[0].checkpoint == 5u);
}

BOOST_AUTO_TEST_CASE(the_store_lists_what_is_paused) {
  auto store = lifecycle_store::open(scratch.path);
  BOOST_REQUIRE(store);
  BOOST_REQUIRE(!(*store)->set_paused("b", true));
  BOOST_REQUIRE(!(*store)->set_paused("a", true));
  BOOST_REQUIRE(!(*store)->set_paused("b", false));
  auto paused = (*store)->paused();
  BOOST_REQUIRE(paused);
  BOOST_TEST(*paused == std::vector<std::string>{"a"});
}

BOOST_AUTO_TEST_CASE(an_unusable_store_is_an_error_not_a_crash) {
  auto store = lifecycle_store::open("/nonexistent-dir/x/node.lifecycle");
  BOOST_TEST(!store);
}

BOOST_AUTO_TEST_SUITE_END()
