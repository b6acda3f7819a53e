// Waiting until read models have applied up to a seq (await_applied.hpp):
// answered at once or once the models get there, with every event counting
// (other types, parked ones), through restarts, never for a blue/green
// shadow, and with a clear error at the deadline or for an unknown model.

#include "bus/actors/await_applied.hpp"

#include "bus/errc.hpp"
#include "support/supervisor_fixture.hpp"

using namespace std::chrono_literals;
using namespace bus;
using namespace bus::actors;
using namespace bus::test;

namespace {

using checkpoints = std::vector<model_checkpoint>;

struct await_fixture : supervisor_fixture {
  /// Sends an await without running anything; the answer lands in the cell
  /// once the test runs the system.
  auto await(std::uint64_t seq, std::string model = {},
             caf::timespan timeout = caf::timespan{60s}) {
    return send_request<checkpoints>(sup, await_atom::value, seq, std::move(model),
                                     timeout);
  }

  /// Publishes without waiting for the projectors (what an application
  /// that awaits afterwards does).
  std::uint64_t publish_logged(std::vector<event> batch) {
    auto ack = publish(std::move(batch), publish_wait::log);
    return ack.outcomes.back().seq;
  }

  static std::string names(const checkpoints& xs) {
    std::string result;
    for (auto& x : xs)
      result += x.model + "@" + std::to_string(x.checkpoint) + " ";
    return result;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(supervisor_await, await_fixture)

BOOST_AUTO_TEST_CASE(an_applied_seq_is_answered_at_once_with_every_checkpoint) {
  start({tally("b", {"B"}), tally("a", {"A"})});
  publish(events(0, 6, {"A", "B"}));
  // No timer fires: the answer comes from the projectors' pushes alone.
  auto all = ask<checkpoints>(sup, await_atom::value, std::uint64_t{6}, std::string{},
                              caf::timespan{10s});
  BOOST_REQUIRE(all);
  BOOST_TEST(names(*all) == "a@6 b@6 "); // by model name
  auto one = ask<checkpoints>(sup, await_atom::value, std::uint64_t{3},
                              std::string{"b"}, caf::timespan{10s});
  BOOST_REQUIRE(one);
  BOOST_TEST(names(*one) == "b@6 ");
  auto nothing = ask<checkpoints>(sup, await_atom::value, std::uint64_t{0},
                                  std::string{"a"}, caf::timespan{10s});
  BOOST_REQUIRE(nothing);
  BOOST_TEST(names(*nothing) == "a@6 ");
}

BOOST_AUTO_TEST_CASE(a_seq_beyond_the_head_waits_until_published_and_applied) {
  start({tally("a", {"A"}), tally("b", {"A"})});
  auto waited = await(5);
  auto waited_for_a = await(2, "a");
  run();
  BOOST_TEST(!*waited);
  BOOST_TEST(!*waited_for_a);
  BOOST_TEST(publish_logged(events(0, 3, {"A"})) == 3u);
  run();
  BOOST_REQUIRE(*waited_for_a);
  BOOST_REQUIRE(**waited_for_a);
  BOOST_TEST(names(***waited_for_a) == "a@3 ");
  BOOST_TEST(!*waited);
  publish_logged(events(3, 2, {"A"}));
  run();
  BOOST_REQUIRE(*waited);
  BOOST_REQUIRE(**waited);
  BOOST_TEST(names(***waited) == "a@5 b@5 ");
  // Every wait is answered: none is left in the table.
  BOOST_TEST(state_of<supervisor_state>(sup).applied_waits.empty());
}

BOOST_AUTO_TEST_CASE(events_of_other_types_move_the_checkpoint_too) {
  start({tally("a", {"A"})});
  publish_logged(events(0, 4, {"A"}));
  auto waited = await(9, "a");
  // Nothing of interest to "a": its checkpoint passes these all the same.
  publish_logged(events(4, 5, {"B", "C"}));
  run();
  BOOST_REQUIRE(*waited);
  BOOST_REQUIRE(**waited);
  BOOST_TEST(names(***waited) == "a@9 ");
}

BOOST_AUTO_TEST_CASE(a_parked_event_counts_as_passed) {
  auto faults = std::make_shared<fault_plan>();
  faults->throw_on_seq = 0;
  faults->poison = {3};
  auto spec = tally("a", {"A"}, faults);
  spec.recovery.attempts = 1;
  spec.recovery.then = on_poison::park;
  start({spec});
  auto waited = await(4, "a");
  publish_logged(events(0, 4, {"A"}));
  do
    run();
  while (!*waited && sched.trigger_timeout());
  BOOST_REQUIRE(*waited);
  BOOST_REQUIRE(**waited);
  BOOST_TEST(names(***waited) == "a@4 ");
  BOOST_TEST(status()[0].parked == 1u);
}

BOOST_AUTO_TEST_CASE(an_unknown_model_is_a_clear_error) {
  start({tally("a", {"A"})});
  auto waited = ask<checkpoints>(sup, await_atom::value, std::uint64_t{1},
                                 std::string{"nowhere"}, caf::timespan{10s});
  BOOST_REQUIRE(!waited);
  BOOST_TEST(code_of(waited.error()) == errc::no_such_model);
  BOOST_TEST(context_of(waited.error()) == "no read model named 'nowhere'");
}

BOOST_AUTO_TEST_CASE(the_deadline_names_the_models_still_behind_and_their_checkpoints) {
  start({tally("a", {"A"}), tally("b", {"A"})});
  publish_logged(events(0, 2, {"A"}));
  run();
  BOOST_REQUIRE(ask<projector_status>(sup, pause_atom::value, std::string{"a"}));
  publish_logged(events(2, 3, {"A"}));
  auto waited = await(5, "", caf::timespan{2s});
  run();
  // A paused model waits: nothing is answered before the deadline.
  BOOST_TEST(!*waited);
  sched.advance_time(1999ms);
  run();
  BOOST_TEST(!*waited);
  sched.advance_time(1ms);
  run();
  BOOST_REQUIRE(*waited);
  BOOST_REQUIRE(!**waited);
  auto& err = (*waited)->error();
  BOOST_TEST(code_of(err) == errc::timed_out);
  BOOST_TEST(context_of(err)
             == "read models still behind seq 5 after 2000 ms: 'a' at checkpoint 2 "
                "(paused)");
  BOOST_TEST(state_of<supervisor_state>(sup).applied_waits.empty());
  // Resumed, it catches up, and a wait for the same seq is answered.
  auto again = await(5);
  BOOST_REQUIRE(ask<projector_status>(sup, resume_atom::value, std::string{"a"}));
  run();
  BOOST_REQUIRE(*again);
  BOOST_REQUIRE(**again);
  BOOST_TEST(names(***again) == "a@5 b@5 ");
}

BOOST_AUTO_TEST_CASE(a_failed_model_is_awaited_again_after_its_restart_and_replay) {
  // Its first projector throws on seq 4; the supervisor restarts it after
  // the backoff, and the new one replays the log.
  auto faults = std::make_shared<fault_plan>(fault_plan{4, 1});
  start({failing_fast(tally("buggy", {"A"}, faults)), tally("steady", {"A"})});
  auto waited = await(6);
  publish_logged(events(0, 6, {"A"}));
  run();
  BOOST_TEST(slot(0).state == model_state::restarting);
  BOOST_TEST(!*waited);
  sched.advance_time(policy.initial_backoff);
  run();
  BOOST_REQUIRE(*waited);
  BOOST_REQUIRE(**waited);
  BOOST_TEST(names(***waited) == "buggy@6 steady@6 ");
  BOOST_TEST(status()[0].restarts == 1u);
}

BOOST_AUTO_TEST_CASE(a_model_failed_for_good_is_named_at_the_deadline) {
  policy.max_restarts = 0;
  policy.cooldown = 0ms;
  auto faults = std::make_shared<fault_plan>(fault_plan{2, -1});
  start({failing_fast(tally("buggy", {"A"}, faults))});
  publish_logged(events(0, 3, {"A"}));
  run();
  BOOST_REQUIRE(slot(0).state == model_state::failed);
  auto waited = await(3, "buggy", caf::timespan{5s});
  run();
  BOOST_TEST(!*waited);
  sched.advance_time(5s);
  run();
  BOOST_REQUIRE(*waited);
  BOOST_REQUIRE(!**waited);
  BOOST_TEST(code_of((*waited)->error()) == errc::timed_out);
  BOOST_TEST(context_of((*waited)->error()).find("'buggy' at checkpoint 0 (failed)")
             != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_blue_green_shadow_is_not_awaited_under_all_models) {
  start({tally("m", {"A"})});
  publish_logged(events(0, 4, {"A"}));
  run();
  // A shadow that keeps failing never catches up, and is never awaited.
  auto faults = std::make_shared<fault_plan>(fault_plan{2, -1});
  self->send(sup, shadow_atom::value, failing_fast(tally("m", {"A"}, faults)),
             shadow_wait::start);
  run();
  BOOST_REQUIRE(slot(0).shadow);
  auto all = ask<checkpoints>(sup, await_atom::value, std::uint64_t{4}, std::string{},
                              caf::timespan{10s});
  BOOST_REQUIRE(all);
  BOOST_TEST(names(*all) == "m@4 ");
  auto shadow = ask<checkpoints>(sup, await_atom::value, std::uint64_t{4},
                                 std::string{"m~shadow"}, caf::timespan{10s});
  BOOST_REQUIRE(!shadow);
  BOOST_TEST(code_of(shadow.error()) == errc::no_such_model);
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

// A bus's node with a local model and a routing supervisor, and a second
// "node" (its own supervisor) attached to the same bus.
struct await_routing_fixture : bus_fixture {
  supervision_policy policy;
  supervisor_actor front;
  supervisor_actor remote;

  await_routing_fixture() {
    front = spawn_routing_supervisor(sys, bus,
                                     std::vector<model_spec>{tally("local", {"A"})},
                                     policy, replaying(8), remote_routing{});
    remote = spawn_supervisor(sys, bus, std::vector<model_spec>{tally("far", {"B"})},
                              policy, replaying(8));
    run();
    BOOST_REQUIRE(ask<std::uint64_t>(bus, attach_atom::value, std::string{"node-b"},
                                     caf::actor_cast<caf::actor>(remote),
                                     std::vector<std::string>{"far"}));
  }

  ~await_routing_fixture() {
    self->send_exit(front, caf::exit_reason::user_shutdown);
    if (remote)
      self->send_exit(remote, caf::exit_reason::user_shutdown);
    run();
  }

  caf::expected<checkpoints> await(std::uint64_t seq, std::string model) {
    return ask<checkpoints>(front, await_atom::value, seq, std::move(model),
                            caf::timespan{10s});
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(supervisor_await_routing, await_routing_fixture)

BOOST_AUTO_TEST_CASE(models_on_other_nodes_are_awaited_too) {
  publish(events(0, 4, {"A", "B"}), publish_wait::log);
  auto all = await(4, "");
  BOOST_REQUIRE(all);
  BOOST_REQUIRE(all->size() == 2u);
  BOOST_TEST((*all)[0].model == "far");
  BOOST_TEST((*all)[0].checkpoint == 4u);
  BOOST_TEST((*all)[1].model == "local");
  auto far = await(4, "far");
  BOOST_REQUIRE(far);
  BOOST_REQUIRE(far->size() == 1u);
  BOOST_TEST(far->front().model == "far");
  auto unknown = await(1, "nowhere");
  BOOST_REQUIRE(!unknown);
  BOOST_TEST(code_of(unknown.error()) == errc::no_such_model);
}

BOOST_AUTO_TEST_CASE(a_model_on_a_lost_node_fails_the_wait_at_once) {
  self->send_exit(remote, caf::exit_reason::user_shutdown);
  remote = nullptr;
  run();
  auto far = await(1, "far");
  BOOST_REQUIRE(!far);
  BOOST_TEST(code_of(far.error()) == errc::model_unavailable);
  BOOST_TEST(context_of(far.error())
             == "read model 'far' is away: node 'node-b' is not connected");
}

BOOST_AUTO_TEST_SUITE_END()
