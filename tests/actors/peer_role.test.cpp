#include "bus/actors/peer_role.hpp"

#include "bus/actors/bus_actor.hpp"
#include "bus/errc.hpp"
#include "support/bus_fixture.hpp"

using namespace bus;
using namespace bus::actors;
using namespace bus::test;

namespace {

// A second bus on its own log, whose peers have `role`.
struct restricted_bus {
  std::shared_ptr<memory_log> log = std::make_shared<memory_log>();
  bus_actor bus;

  restricted_bus(caf::actor_system& sys, peer_role role) {
    bus_options options;
    options.peers = role;
    bus = spawn_bus(sys, log, options);
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(peer_role_names, bus_fixture)

BOOST_AUTO_TEST_CASE(every_role_parses_back_from_its_name) {
  for (auto x : {peer_role::projector, peer_role::publisher, peer_role::unrestricted})
    BOOST_TEST((parse_peer_role(to_string(x)) == x), to_string(x));
  BOOST_TEST(!parse_peer_role("admin"));
  BOOST_TEST(!parse_peer_role("Projector"));
}

BOOST_AUTO_TEST_CASE(actors_on_the_bus_node_may_do_everything_whatever_the_role) {
  restricted_bus r{sys, peer_role::projector};
  run();
  auto ack = ask<publish_ack>(r.bus, publish_atom::value, events(0, 3, {"A"}),
                              publish_wait::log);
  BOOST_TEST(static_cast<bool>(ack));
  BOOST_TEST(r.log->head() == 3u);
  BOOST_TEST(
    static_cast<bool>(ask<std::vector<node_entry>>(r.bus, directory_atom::value)));
  BOOST_TEST(static_cast<bool>(
    ask<std::uint64_t>(r.bus, redeliver_atom::value, std::uint64_t{1})));
  self->send_exit(r.bus, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_CASE(a_publish_without_a_sender_counts_as_from_another_node) {
  restricted_bus projector_only{sys, peer_role::projector};
  restricted_bus publishers{sys, peer_role::publisher};
  run();
  for (auto* r : {&projector_only, &publishers})
    caf::anon_send(r->bus, publish_atom::value, events(0, 2, {"A"}), publish_wait::log);
  // The fixture's bus is unrestricted: it takes the same.
  caf::anon_send(bus, publish_atom::value, events(0, 2, {"A"}), publish_wait::log);
  run();
  BOOST_TEST(projector_only.log->head() == 0u);
  BOOST_TEST(publishers.log->head() == 2u);
  BOOST_TEST(log->head() == 2u);
  for (auto* r : {&projector_only, &publishers})
    self->send_exit(r->bus, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_SUITE_END()
