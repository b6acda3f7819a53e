// Peer roles (bus-node --peer-role): what a node that got in over mutual
// TLS may ask of the bus node, checked with bus-peer-probe, a node that
// asks what a projector node never would.

#include <boost/test/unit_test.hpp>

#include <memory>
#include <string>
#include <vector>

#include "tls_fixture.hpp"

using namespace bus::node::test;

namespace {

// Runs bus-peer-probe as `node` against the bus and checks its first four
// steps; `publish` is what the bus must answer to its publish.
std::unique_ptr<node_child> start_probe(tls_fixture& f, const std::string& node,
                                        const std::string& publish) {
  auto args = std::vector<std::string>{"127.0.0.1", f.c.port};
  for (auto file : {".pem", ".key"})
    args.push_back(f.certs.path(node + file));
  args.push_back(f.certs.path("main.ca.pem"));
  auto probe = std::make_unique<node_child>(BUS_PEER_PROBE_PATH, args);
  for (auto& expected : std::vector<std::string>{"head ok", "publish " + publish,
                                                 "directory forbidden", "attach ok"})
    BOOST_TEST(probe->read_line() == expected);
  return probe;
}

// Asks the bus node for its status, which it asks the probe's stand-in
// supervisor too; the probe then sends the bus node's supervisor a pause
// (refused) and a status (answered).
void check_probe_cannot_steer_the_bus_node(tls_fixture& f, node_child& probe) {
  std::uint64_t head = 0;
  f.c.models(head);
  BOOST_TEST(probe.read_line() == "pause forbidden");
  BOOST_TEST(probe.read_line() == "status ok");
  auto err = f.c.bus->err();
  BOOST_TEST(err.find("refused pause from node") != std::string::npos, err);
}

} // namespace

BOOST_AUTO_TEST_SUITE(peer_role_distributed)

BOOST_FIXTURE_TEST_CASE(
  a_connected_node_may_project_but_not_publish_nor_steer_the_bus_node, tls_fixture) {
  start_bus_and_node_a();
  auto probe = start_probe(*this, "node-b", "forbidden");
  check_probe_cannot_steer_the_bus_node(*this, *probe);
  auto err = c.bus->err();
  BOOST_TEST(err.find("refused publish from node") != std::string::npos, err);
  // Nothing of the refused publish reached the log: the head counts the
  // stream's events only.
  check_only_node_a_serves(make_stream(300, 30, 10), 30);
  auto a_err = c.projectors["node-a"]->err();
  BOOST_TEST(a_err.find("lost the bus") == std::string::npos, a_err);
}

BOOST_FIXTURE_TEST_CASE(peer_role_publisher_lets_connected_nodes_publish_only,
                        tls_fixture) {
  auto args = certs.args("bus", "main");
  args.insert(args.end(), {"--peer-role", "publisher"});
  c.start_bus(args);
  auto probe = start_probe(*this, "node-b", "ok");
  check_probe_cannot_steer_the_bus_node(*this, *probe);
  std::uint64_t head = 0;
  c.models(head);
  BOOST_TEST(head == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
