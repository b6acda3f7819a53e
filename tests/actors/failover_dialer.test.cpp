#include "bus/actors/connector.hpp"

#include "bus/errc.hpp"
#include "support/connector_fixture.hpp"

using namespace std::chrono_literals;
using namespace bus;
using namespace bus::actors;
using namespace bus::test;

namespace {

// Two bus nodes on one durable log, at most one of them leading: a standby
// publishes nothing, so its dialer fails like an address where nothing
// listens. The network is left out.
struct failover_fixture : connector_fixture_base {
  std::shared_ptr<bus_actor> at_a = std::make_shared<bus_actor>();
  std::shared_ptr<bus_actor> at_b = std::make_shared<bus_actor>(bus);
  std::shared_ptr<int> dials_a = std::make_shared<int>(0);
  std::shared_ptr<int> dials_b = std::make_shared<int>(0);
  dialer_actor spawn_dialer(std::shared_ptr<bus_actor> target,
                            std::shared_ptr<int> dials) {
    return sys.spawn(
      [target, dials](dialer_actor::pointer) -> dialer_actor::behavior_type {
        return {
          [target, dials](dial_atom) -> caf::result<bus_actor> {
            ++*dials;
            if (!*target)
              return make_error(errc::unreachable, "nothing is published there");
            return *target;
          },
        };
      });
  }

  dialer_actor failover() {
    return spawn_failover_dialer(
      sys, {{"a:1", spawn_dialer(at_a, dials_a)}, {"b:2", spawn_dialer(at_b, dials_b)}},
      caf::timespan{1s});
  }

  // Asks `dialer` once; returns the bus, or the error's text.
  std::variant<bus_actor, std::string> dial(const dialer_actor& dialer) {
    auto result = ask<bus_actor>(dialer, dial_atom::value);
    if (result)
      return *result;
    return sys.render(result.error());
  }

  projector_status model_status() {
    auto xs = ask<std::vector<projector_status>>(node_sup, status_atom::value);
    BOOST_REQUIRE(xs);
    BOOST_REQUIRE(xs->size() == 1u);
    return xs->front();
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(failover_dialer, failover_fixture)

BOOST_AUTO_TEST_CASE(a_dial_answers_the_bus_that_leads_wherever_it_is_listed) {
  auto dialer = failover();
  auto first = dial(dialer);
  BOOST_REQUIRE(std::holds_alternative<bus_actor>(first));
  BOOST_TEST((std::get<bus_actor>(first) == bus));
  BOOST_TEST(*dials_a == 1);
  // The next dial starts at the bus reached last: no detour through a.
  dial(dialer);
  BOOST_TEST(*dials_a == 1);
  BOOST_TEST(*dials_b == 2);
  self->send_exit(dialer, caf::exit_reason::user_shutdown);
  run();
}

BOOST_AUTO_TEST_CASE(a_dial_with_no_leader_names_every_address_and_why) {
  *at_b = nullptr;
  auto dialer = failover();
  auto result = dial(dialer);
  BOOST_REQUIRE(std::holds_alternative<std::string>(result));
  auto& text = std::get<std::string>(result);
  BOOST_TEST(text.find("a:1: ") != std::string::npos, text);
  BOOST_TEST(text.find("b:2: ") != std::string::npos, text);
  BOOST_TEST(text.find("nothing is published there") != std::string::npos, text);
  self->send_exit(dialer, caf::exit_reason::user_shutdown);
  run();
}

BOOST_AUTO_TEST_CASE(a_node_follows_the_leader_and_resumes_from_its_checkpoint) {
  model_spec spec = tally("totals", {"A", "B"});
  connector_options options;
  options.node = "node-a";
  options.models = {spec.name};
  supervision_policy policy;
  auto make = [this, spec, policy](bus_actor b) {
    node_sup = spawn_supervisor(sys, b, {spec}, policy, replaying(4));
    return node_sup;
  };
  connector = spawn_connector(sys, failover(), make, options);
  run();
  BOOST_REQUIRE(link().connected);
  publish(events(0, 10, {"A", "B"}));
  BOOST_TEST(model_status().checkpoint == 10u);
  // The leader at b dies; the standby at a takes the log over and serves
  // it, events are published there before the node is back.
  self->send_exit(bus, caf::exit_reason::kill);
  *at_b = nullptr;
  run();
  BOOST_TEST(!link().connected);
  bus = spawn_bus(sys, log, bus_options{});
  run();
  *at_a = bus;
  publish(events(10, 7, {"A", "B"}));
  until_connected();
  run();
  auto after = model_status();
  BOOST_TEST(after.checkpoint == 17u);
  BOOST_TEST(after.applied == 17u); // nothing applied twice
  publish(events(17, 3, {"A", "B"}));
  auto snap = ask<model_snapshot>(node_sup, snapshot_atom::value, spec.name);
  BOOST_REQUIRE(snap);
  BOOST_TEST(snap->state == expected_tally(whole_log(), {"A", "B"}));
  auto nodes = ask<std::vector<node_entry>>(bus, directory_atom::value);
  BOOST_REQUIRE(nodes);
  BOOST_REQUIRE(nodes->size() == 1u);
  BOOST_TEST((*nodes)[0].node == "node-a");
}

BOOST_AUTO_TEST_SUITE_END()
