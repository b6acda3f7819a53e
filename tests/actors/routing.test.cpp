#include "bus/actors/supervisor.hpp"

#include "bus/errc.hpp"
#include "support/bus_fixture.hpp"

using namespace std::chrono_literals;
using namespace bus;
using namespace bus::actors;
using namespace bus::test;

namespace {

// A bus's node with one local model and a routing supervisor, and a second
// "node" (its own supervisor) attached to the same bus, all on the testing
// scheduler.
struct routing_fixture : bus_fixture {
  supervision_policy policy;
  supervisor_actor front;
  supervisor_actor remote;

  routing_fixture() {
    front = spawn_routing_supervisor(sys, bus,
                                     std::vector<model_spec>{tally("local", {"A"})},
                                     policy, replaying(8), remote_routing{});
    remote = spawn_supervisor(sys, bus,
                              std::vector<model_spec>{tally("far", {"A", "B"})}, policy,
                              replaying(8));
    run();
    auto head = ask<std::uint64_t>(bus, attach_atom::value, std::string{"node-b"},
                                   caf::actor_cast<caf::actor>(remote),
                                   std::vector<std::string>{"far"});
    BOOST_REQUIRE(head);
  }

  ~routing_fixture() {
    self->send_exit(front, caf::exit_reason::user_shutdown);
    if (remote)
      self->send_exit(remote, caf::exit_reason::user_shutdown);
    run();
  }

  caf::expected<query_result> query(const std::string& model, const std::string& key) {
    return ask<query_result>(front, query_atom::value, model, key);
  }

  std::vector<projector_status> status() {
    auto xs = ask<std::vector<projector_status>>(front, status_atom::value);
    BOOST_REQUIRE(xs);
    return *xs;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(routing, routing_fixture)

BOOST_AUTO_TEST_CASE(queries_reach_models_on_other_nodes) {
  auto ack = publish(events(0, 6, {"A", "B"}));
  // Both models, local and remote, are named in the publish's ack.
  std::vector<std::string> names;
  for (auto& m : ack.models)
    names.push_back(m.model);
  std::sort(names.begin(), names.end());
  BOOST_TEST((names == std::vector<std::string>{"far", "local"}));
  auto expected = expected_tally(whole_log(), {"A", "B"});
  auto far = query("far", "key0");
  BOOST_REQUIRE(far);
  BOOST_TEST(far->model == "far");
  BOOST_TEST(far->value == expected.at("sums").at("key0"));
  auto local = query("local", "key0");
  BOOST_REQUIRE(local);
  BOOST_TEST(local->value == expected_tally(whole_log(), {"A"}).at("sums").at("key0"));
  // The remote model's own errors come back as they are.
  auto missing = query("far", "nokey");
  BOOST_REQUIRE(!missing);
  BOOST_TEST(code_of(missing.error()) == errc::no_such_key);
  auto unknown = query("nowhere", "key0");
  BOOST_REQUIRE(!unknown);
  BOOST_TEST(code_of(unknown.error()) == errc::no_such_model);
  // Status lists the local models, then every attached node's.
  auto st = status();
  BOOST_REQUIRE(st.size() == 2u);
  BOOST_TEST(st[0].model == "local");
  BOOST_TEST(st[1].model == "far");
  BOOST_TEST(st[1].checkpoint == 6u);
}

BOOST_AUTO_TEST_CASE(a_lost_node_makes_its_models_away_and_publishing_goes_on) {
  publish(events(0, 3, {"A"}));
  // The node goes down with its projectors.
  self->send_exit(remote, caf::exit_reason::user_shutdown);
  remote = nullptr;
  run();
  auto q = query("far", "key0");
  BOOST_REQUIRE(!q);
  BOOST_TEST(code_of(q.error()) == errc::model_unavailable);
  BOOST_TEST(context_of(q.error()).find("node 'node-b' is not connected")
             != std::string::npos);
  auto st = status();
  BOOST_REQUIRE(st.size() == 2u);
  BOOST_TEST(st[1].model == "far");
  BOOST_TEST(st[1].state == model_state::away);
  // Everyone else is served; the events stay in the log.
  auto ack = publish(events(3, 3, {"A"}));
  BOOST_REQUIRE(ack.models.size() == 1u);
  BOOST_TEST(ack.models[0].model == "local");
  BOOST_TEST(ack.models[0].applied.size() == 3u);
  BOOST_TEST(whole_log().size() == 6u);
}

BOOST_AUTO_TEST_CASE(a_silent_node_is_answered_with_a_timeout_error) {
  // A node whose supervisor takes requests and never answers them.
  auto silent = sys.spawn([](caf::event_based_actor* a) -> caf::behavior {
    return {[a](query_atom, std::string&, std::string&) {
      return a->make_response_promise(); // never delivered
    }};
  });
  auto head = ask<std::uint64_t>(bus, attach_atom::value, std::string{"node-c"},
                                 caf::actor_cast<caf::actor>(silent),
                                 std::vector<std::string>{"mute"});
  BOOST_REQUIRE(head);
  auto result = std::make_shared<std::optional<caf::expected<query_result>>>();
  auto f = front;
  sys.spawn([=](caf::event_based_actor* a) {
    a->request(f, caf::infinite, query_atom::value, std::string{"mute"},
               std::string{"k"})
      .then([=](query_result& x) { *result = std::move(x); },
            [=](caf::error& err) { *result = std::move(err); });
  });
  run();
  BOOST_TEST(!result->has_value()); // still waiting: no answer, no hang
  sched.trigger_timeouts();
  run();
  BOOST_REQUIRE(result->has_value());
  BOOST_REQUIRE(!**result);
  BOOST_TEST(code_of((*result)->error()) == errc::model_unavailable);
  BOOST_TEST(context_of((*result)->error()).find("did not answer within 5000 ms")
             != std::string::npos);
  self->send_exit(silent, caf::exit_reason::user_shutdown);
  run();
}

BOOST_AUTO_TEST_CASE(a_silent_node_holds_a_status_up_for_two_status_timeouts_only) {
  // It held it up for the routing timeout (5 s), busctl's own default: a
  // hung projector node made `busctl status` fail when it was most needed.
  auto silent = sys.spawn([](caf::event_based_actor* a) -> caf::behavior {
    return {[=](status_atom) -> caf::response_promise {
      return a->make_response_promise(); // never delivered
    }};
  });
  BOOST_REQUIRE(ask<std::uint64_t>(bus, attach_atom::value, std::string{"node-c"},
                                   caf::actor_cast<caf::actor>(silent),
                                   std::vector<std::string>{"mute"}));
  auto result
    = std::make_shared<std::optional<caf::expected<std::vector<projector_status>>>>();
  auto f = front;
  sys.spawn([=](caf::event_based_actor* a) {
    a->request(f, caf::infinite, status_atom::value)
      .then([=](std::vector<projector_status>& x) { *result = std::move(x); },
            [=](caf::error& err) { *result = std::move(err); });
  });
  run();
  BOOST_TEST(!result->has_value());
  sched.advance_time(std::chrono::seconds{2});
  run();
  BOOST_REQUIRE(result->has_value());
  BOOST_REQUIRE(**result);
  auto& all = ***result;
  auto mute = std::find_if(all.begin(), all.end(),
                           [](const projector_status& x) { return x.model == "mute"; });
  BOOST_REQUIRE(mute != all.end());
  BOOST_TEST(mute->state == model_state::unreachable);
  BOOST_TEST(mute->last_error == "node 'node-c' did not answer status within 2000 ms");
  self->send_exit(silent, caf::exit_reason::user_shutdown);
  run();
}

BOOST_AUTO_TEST_CASE(ready_waits_for_this_nodes_models_only) {
  // A node that never answers must not hold up this node's readiness.
  auto silent = sys.spawn([](caf::event_based_actor* a) -> caf::behavior {
    return {[a](ready_atom) { return a->make_response_promise(); }};
  });
  auto head = ask<std::uint64_t>(bus, attach_atom::value, std::string{"node-c"},
                                 caf::actor_cast<caf::actor>(silent),
                                 std::vector<std::string>{"mute"});
  BOOST_REQUIRE(head);
  auto ready = ask<std::vector<projector_status>>(front, ready_atom::value);
  BOOST_REQUIRE(ready);
  BOOST_REQUIRE_EQUAL(ready->size(), 1u);
  BOOST_TEST((*ready)[0].model == "local");
  self->send_exit(silent, caf::exit_reason::user_shutdown);
  run();
}

BOOST_AUTO_TEST_CASE(a_publish_is_acknowledged_when_a_subscriber_node_is_lost) {
  // A remote projector that takes a delivery and is lost before answering.
  auto taker = sys.spawn([](caf::event_based_actor* a) -> caf::behavior {
    return {[a](deliver_atom, event_batch&, std::uint64_t) {
      return a->make_response_promise(); // its node dies first
    }};
  });
  auto head = ask<std::uint64_t>(bus, subscribe_atom::value,
                                 caf::actor_cast<projector_actor>(taker),
                                 std::string{"taker"}, std::vector<std::string>{"A"});
  BOOST_REQUIRE(head);
  auto result = std::make_shared<std::optional<caf::expected<publish_ack>>>();
  auto b = bus;
  auto batch = events(0, 2, {"A"});
  sys.spawn([=](caf::event_based_actor* a) {
    a->request(b, caf::infinite, publish_atom::value, batch, publish_wait::projectors)
      .then([=](publish_ack& x) { *result = std::move(x); },
            [=](caf::error& err) { *result = std::move(err); });
  });
  run();
  BOOST_TEST(!result->has_value()); // waits for the taker
  self->send_exit(taker, caf::exit_reason::kill);
  run();
  BOOST_REQUIRE(result->has_value());
  BOOST_REQUIRE(**result);
  auto& ack = ***result;
  for (auto& m : ack.models)
    if (m.model == "taker")
      BOOST_TEST(m.applied.empty());
  auto bs = ask<bus_status>(bus, status_atom::value);
  BOOST_REQUIRE(bs);
  BOOST_TEST(bs->head == 2u);
  BOOST_TEST(bs->subscribers == 2u); // "local" and "far" remain
}

BOOST_AUTO_TEST_CASE(a_second_node_attaching_a_served_model_is_refused) {
  auto attach = [this](const std::string& node, const supervisor_actor& sup) {
    return ask<std::uint64_t>(bus, attach_atom::value, node,
                              caf::actor_cast<caf::actor>(sup),
                              std::vector<std::string>{"other", "far"});
  };
  auto second = spawn_supervisor(sys, bus, std::vector<model_spec>{tally("far", {"A"})},
                                 policy, replaying(8));
  run();
  auto refused = attach("node-c", second);
  BOOST_REQUIRE(!refused);
  BOOST_TEST(code_of(refused.error()) == errc::precondition_failed);
  BOOST_TEST(context_of(refused.error())
             == "read model 'far' is already served by node 'node-b'");
  // Queries still go to the node that serves it.
  publish(events(0, 2, {"A"}));
  auto far = query("far", "key0");
  BOOST_REQUIRE(far);
  // The same node attaching again (a reconnect, or restarted under its
  // name with a new supervisor) is not refused.
  BOOST_CHECK(ask<std::uint64_t>(bus, attach_atom::value, std::string{"node-b"},
                                 caf::actor_cast<caf::actor>(remote),
                                 std::vector<std::string>{"far"}));
  BOOST_CHECK(attach("node-b", second));
  // Once node-b is lost, another node may take its models over.
  self->send_exit(second, caf::exit_reason::user_shutdown);
  run();
  auto third = spawn_supervisor(sys, bus, std::vector<model_spec>{tally("far", {"A"})},
                                policy, replaying(8));
  run();
  BOOST_CHECK(attach("node-c", third));
  self->send_exit(third, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_SUITE_END()
