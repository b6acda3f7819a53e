// A channel whose receiver's whole node dies (SIGKILL) while it holds a
// message: the channel hears of it over the connection and hands the
// message to a receiver on its own node. The probe process and every wait
// have hard time limits; nothing sleeps.

#include "bus/actors/channel.hpp"

#include <boost/test/unit_test.hpp>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "bus/actors/init.hpp"
#include "node_process.hpp"

using namespace std::chrono_literals;
using namespace bus::actors;
using namespace bus::node::test;

namespace {

caf::actor_system_config& network_config(caf::actor_system_config& cfg) {
  bus::init(cfg);
  bus::enable_network(cfg);
  cfg.set("logger.verbosity", caf::atom("quiet"));
  return cfg;
}

} // namespace

BOOST_AUTO_TEST_SUITE(channel_node_loss_distributed)

BOOST_AUTO_TEST_CASE(a_message_held_by_a_lost_node_goes_to_a_surviving_receiver) {
  caf::actor_system_config cfg;
  caf::actor_system sys{network_config(cfg)};
  channel_options options;
  options.ack_timeout = caf::timespan::zero(); // only the loss redelivers
  auto channel = spawn_channel(sys, options);
  auto port = sys.middleman().publish(channel, 0, "127.0.0.1", true);
  BOOST_REQUIRE(port);
  caf::scoped_actor self{sys};
  self->request(channel, 10s, enqueue_atom::value, std::string{"job"})
    .receive([](std::uint64_t id) { BOOST_TEST(id == 1u); },
             [&](caf::error& err) { BOOST_FAIL(sys.render(err)); });
  // The probe node takes the job (it has no other receiver to compete
  // with) and is killed as soon as it says so.
  auto probe = run_process(BUS_CHANNEL_PROBE_PATH, {"127.0.0.1", std::to_string(*port)},
                           "", scaled(20s), 1);
  BOOST_TEST(probe.killed, probe.err);
  BOOST_TEST(probe.out == "took 1 1\n");
  // A local receiver reports what it takes to this test, and acks.
  caf::actor sink = self;
  auto local = sys.spawn(
    [=](channel_receiver_actor::pointer r) -> channel_receiver_actor::behavior_type {
      return {
        [=](take_atom, channel_message& m) {
          caf::anon_send(sink, m);
          r->send(channel, ack_atom::value, m.id);
        },
      };
    });
  self->request(channel, 10s, join_atom::value, local, std::uint32_t{1})
    .receive([](channel_status&) {},
             [&](caf::error& err) { BOOST_FAIL(sys.render(err)); });
  channel_message taken;
  self->receive([&](channel_message& m) { taken = std::move(m); },
                caf::after(scaled(20s)) >>
                  [] { BOOST_FAIL("no redelivery within 20 s"); });
  BOOST_TEST(taken.id == 1u);
  BOOST_TEST(taken.attempt == 2u);
  BOOST_TEST(taken.body == "job");
  self->request(channel, 10s, status_atom::value)
    .receive(
      [&](channel_status& s) {
        BOOST_TEST(s.receivers == 1u); // the lost node's receiver is gone
        BOOST_TEST(s.redelivered == 1u);
      },
      [&](caf::error& err) { BOOST_FAIL(sys.render(err)); });
  self->send_exit(local, caf::exit_reason::user_shutdown);
  self->send_exit(channel, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_SUITE_END()
