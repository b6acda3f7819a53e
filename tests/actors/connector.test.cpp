#include "bus/actors/connector.hpp"

#include "bus/errc.hpp"
#include "support/connector_fixture.hpp"
#include "internal/projector_state.hpp"

using namespace std::chrono_literals;
using namespace bus;
using namespace bus::actors;
using namespace bus::test;

namespace {

// A projector node on the testing scheduler, the network left out: the
// dialer hands out whatever bus `reachable` holds, or fails like a node
// that cannot be reached.
struct connector_fixture : connector_fixture_base {
  std::shared_ptr<bus_actor> reachable = std::make_shared<bus_actor>(bus);
  dialer_actor spawn_dialer() {
    auto target = reachable;
    return sys.spawn([target](dialer_actor::pointer) -> dialer_actor::behavior_type {
      return {
        [target](dial_atom) -> caf::result<bus_actor> {
          if (!*target)
            return make_error(errc::unreachable, "nothing listens there");
          return *target;
        },
      };
    });
  }

  void start_node(std::vector<model_spec> specs) {
    connector_options options;
    options.node = "node-a";
    for (auto& s : specs)
      options.models.push_back(s.name);
    supervision_policy policy;
    auto make = [this, specs, policy](bus_actor b) {
      node_sup = spawn_supervisor(sys, b, specs, policy, replaying(4));
      return node_sup;
    };
    connector = spawn_connector(sys, spawn_dialer(), make, options);
    run();
  }

  projector_status model_status(const supervisor_actor& sup, std::size_t i = 0) {
    auto xs = ask<std::vector<projector_status>>(sup, status_atom::value);
    BOOST_REQUIRE(xs);
    BOOST_REQUIRE(xs->size() > i);
    return (*xs)[i];
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(connector, connector_fixture)

BOOST_AUTO_TEST_CASE(first_connection_spawns_the_supervisor_and_attaches_it) {
  start_node({tally("totals", {"A"})});
  BOOST_TEST(link().connected);
  BOOST_TEST(link().connections == 1u);
  auto nodes = ask<std::vector<node_entry>>(bus, directory_atom::value);
  BOOST_REQUIRE(nodes);
  BOOST_REQUIRE(nodes->size() == 1u);
  BOOST_TEST((*nodes)[0].node == "node-a");
  BOOST_TEST(((*nodes)[0].models == std::vector<std::string>{"totals"}));
  BOOST_TEST(((*nodes)[0].supervisor == caf::actor_cast<caf::actor>(node_sup)));
  publish(events(0, 5, {"A"}));
  auto snap = ask<model_snapshot>(node_sup, snapshot_atom::value,
                                  std::string{"totals"});
  BOOST_REQUIRE(snap);
  BOOST_TEST(snap->state == expected_tally(whole_log(), {"A"}));
}

BOOST_AUTO_TEST_CASE(handles_name_the_supervisor_and_the_bus_once_connected) {
  // What a projector node's admin endpoint asks to reach its models.
  auto handles = [this] {
    auto result = std::make_shared<std::pair<supervisor_actor, bus_actor>>();
    sys.spawn([=](caf::event_based_actor* a) {
      a->request(connector, caf::infinite, handles_atom::value)
        .then([=](supervisor_actor& s, bus_actor& b) {
          *result = {s, b};
        });
    });
    run();
    return *result;
  };
  *reachable = nullptr;
  start_node({tally("totals", {"A"})});
  auto before = handles();
  BOOST_TEST(!before.first);
  BOOST_TEST(!before.second);
  *reachable = bus;
  until_connected();
  auto after = handles();
  BOOST_TEST((after.first == node_sup));
  BOOST_TEST((after.second == bus));
}

BOOST_AUTO_TEST_CASE(unreachable_bus_is_dialed_again_with_backoff) {
  *reachable = nullptr;
  start_node({tally("totals", {"A"})});
  BOOST_TEST(!link().connected);
  BOOST_TEST(!node_sup); // nothing runs before the bus is reached
  sched.trigger_timeout();
  run();
  BOOST_TEST(link().failed_attempts == 2u);
  BOOST_TEST(link().last_error.find("nothing listens there") != std::string::npos);
  *reachable = bus;
  until_connected();
  BOOST_TEST(link().failed_attempts == 0u);
  publish(events(0, 4, {"A"}));
  BOOST_TEST(model_status(node_sup).applied == 4u);
}

BOOST_AUTO_TEST_CASE(
  node_reconnects_to_a_restarted_bus_and_replays_from_its_checkpoint) {
  start_node({tally("totals", {"A", "B"})});
  publish(events(0, 10, {"A", "B"}));
  auto before = model_status(node_sup);
  BOOST_TEST(before.checkpoint == 10u);
  // The bus's node goes down; the log survives (a durable store).
  self->send_exit(bus, caf::exit_reason::kill);
  *reachable = nullptr;
  run();
  BOOST_TEST(!link().connected);
  // The bus comes back on the same log, and events are published before
  // the projector node is back.
  bus = spawn_bus(sys, log, bus_options{});
  run();
  publish(events(10, 7, {"A", "B"}));
  *reachable = bus;
  until_connected();
  run();
  BOOST_TEST(link().connections == 2u);
  auto after = model_status(node_sup);
  BOOST_TEST(after.state == model_state::running);
  BOOST_TEST(after.checkpoint == 17u);
  // Pulled only what it had not processed: nothing applied twice.
  BOOST_TEST(after.applied == 17u);
  BOOST_TEST(after.skipped == 0u);
  // Live again: pushes from the new bus arrive.
  publish(events(17, 3, {"A", "B"}));
  auto snap = ask<model_snapshot>(node_sup, snapshot_atom::value,
                                  std::string{"totals"});
  BOOST_REQUIRE(snap);
  BOOST_TEST(snap->state == expected_tally(whole_log(), {"A", "B"}));
  // A transport retry of everything is skipped, not applied again.
  auto pushed = ask<std::uint64_t>(bus, redeliver_atom::value, std::uint64_t{1});
  BOOST_REQUIRE(pushed);
  BOOST_TEST(model_status(node_sup).applied == 20u);
  BOOST_TEST(model_status(node_sup).skipped == 20u);
  // Re-attached under its name on the new bus.
  auto nodes = ask<std::vector<node_entry>>(bus, directory_atom::value);
  BOOST_REQUIRE(nodes);
  BOOST_REQUIRE(nodes->size() == 1u);
  BOOST_TEST((*nodes)[0].node == "node-a");
}

// A caught-up model asks its bus for nothing: only the connector's monitor
// tells that the bus is gone, and status, health and metrics must say so
// at once, not once some request to the bus has timed out.
BOOST_AUTO_TEST_CASE(caught_up_model_shows_disconnected_once_its_bus_is_lost) {
  start_node({tally("totals", {"A"})});
  publish(events(0, 5, {"A"}));
  BOOST_TEST(model_status(node_sup).state == model_state::running);
  self->send_exit(bus, caf::exit_reason::kill);
  *reachable = nullptr;
  run(); // no timer fires
  BOOST_TEST(!link().connected);
  auto lost = model_status(node_sup);
  BOOST_TEST(lost.state == model_state::disconnected);
  BOOST_TEST(lost.checkpoint == 5u);
  // The bus is back on the same log: running again, nothing missed.
  bus = spawn_bus(sys, log, bus_options{});
  run();
  publish(events(5, 2, {"A"}));
  *reachable = bus;
  until_connected();
  run();
  auto back = model_status(node_sup);
  BOOST_TEST(back.state == model_state::running);
  BOOST_TEST(back.checkpoint == 7u);
  BOOST_TEST(back.applied == 7u);
}

// What a supervisor restarting a model while its bus is lost spawns.
BOOST_AUTO_TEST_CASE(projector_started_without_a_bus_waits_disconnected) {
  publish(events(0, 6, {"A"}));
  auto p = bus::actors::spawn_projector(sys, bus_actor{}, tally("totals", {"A"}),
                                        replaying(4));
  run();
  auto st = ask<projector_status>(p, status_atom::value);
  BOOST_REQUIRE(st);
  BOOST_TEST(st->state == model_state::disconnected);
  self->send(p, rebind_atom::value, caf::actor_cast<caf::actor>(bus));
  run();
  st = ask<projector_status>(p, status_atom::value);
  BOOST_REQUIRE(st);
  BOOST_TEST(st->state == model_state::running);
  BOOST_TEST(st->checkpoint == 6u);
  self->send_exit(p, caf::exit_reason::user_shutdown);
  run();
}

BOOST_AUTO_TEST_CASE(projector_that_loses_its_bus_mid_catch_up_waits_for_it) {
  publish(events(0, 40, {"A"}));
  projector_options options = replaying(4);
  options.bus_timeout = caf::duration{1s};
  options.retry_delay = 1s;
  auto p = bus::actors::spawn_projector(sys, bus, tally("totals", {"A"}), options);
  // Step until it has applied a few batches of its catch-up, then the bus
  // goes down under its next replay request.
  auto& state = state_of<projector_state>(p);
  for (int i = 0; i < 100 && state.processed.watermark() < 8; ++i)
    sched.run_once();
  BOOST_REQUIRE(state.processed.watermark() >= 8u);
  BOOST_REQUIRE(state.processed.watermark() < 40u);
  self->send_exit(bus, caf::exit_reason::kill);
  run();
  auto st = ask<projector_status>(p, status_atom::value);
  BOOST_REQUIRE(st);
  BOOST_TEST(st->state == model_state::disconnected);
  auto q = ask<query_result>(p, query_atom::value, std::string{"key0"});
  BOOST_REQUIRE(!q);
  BOOST_TEST(code_of(q.error()) == errc::model_unavailable);
  BOOST_TEST(context_of(q.error()).find("waiting for its bus") != std::string::npos);
  // The bus is back (same log): a rebind finishes the catch-up from the
  // checkpoint, and a stale retry timer changes nothing.
  bus = spawn_bus(sys, log, bus_options{});
  run();
  self->send(p, rebind_atom::value, caf::actor_cast<caf::actor>(bus));
  run();
  sched.trigger_timeouts();
  run();
  st = ask<projector_status>(p, status_atom::value);
  BOOST_REQUIRE(st);
  BOOST_TEST(st->state == model_state::running);
  BOOST_TEST(st->checkpoint == 40u);
  BOOST_TEST(st->applied == 40u);
  BOOST_TEST(snapshot_of(p) == expected_tally(whole_log(), {"A"}));
  self->send_exit(p, caf::exit_reason::user_shutdown);
  run();
}

BOOST_AUTO_TEST_CASE(projector_rebuilds_when_the_bus_lost_its_log) {
  start_node({tally("totals", {"A"})});
  publish(events(0, 10, {"A"}));
  // The bus restarts without a store: an empty log.
  self->send_exit(bus, caf::exit_reason::kill);
  run();
  log = std::make_shared<memory_log>();
  bus = spawn_bus(sys, log, bus_options{});
  *reachable = bus;
  run();
  publish(events(100, 3, {"A"}));
  until_connected();
  run();
  auto st = model_status(node_sup);
  BOOST_TEST(st.rebuilds == 1u);
  BOOST_TEST(st.checkpoint == 3u);
  auto snap = ask<model_snapshot>(node_sup, snapshot_atom::value,
                                  std::string{"totals"});
  BOOST_REQUIRE(snap);
  BOOST_TEST(snap->state == expected_tally(whole_log(), {"A"}));
}

BOOST_AUTO_TEST_CASE(a_node_refused_by_the_bus_stops_with_its_supervisor) {
  // Another live node serves "m" already.
  auto other = spawn_supervisor(sys, bus, std::vector<model_spec>{tally("m", {"A"})},
                                supervision_policy{}, replaying(4));
  run();
  BOOST_REQUIRE(ask<std::uint64_t>(bus, attach_atom::value, std::string{"node-x"},
                                   caf::actor_cast<caf::actor>(other),
                                   std::vector<std::string>{"m"}));
  start_node({tally("m", {"A"})});
  BOOST_REQUIRE(node_sup);
  // Stopped for good: it does not dial again, and its projectors are gone.
  auto gone = std::make_shared<caf::error>();
  sys.spawn([this, gone](caf::event_based_actor* a) {
    a->request(caf::actor_cast<caf::actor>(connector), caf::infinite,
               status_atom::value)
      .then([](link_status&) {}, [gone](caf::error& err) { *gone = err; });
  });
  run();
  BOOST_CHECK(*gone == caf::sec::request_receiver_down);
  auto st = ask<bus_status>(bus, status_atom::value);
  BOOST_REQUIRE(st);
  BOOST_TEST(st->subscribers == 1u); // only the other node's projector
  connector = nullptr;
  self->send_exit(other, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_SUITE_END()
