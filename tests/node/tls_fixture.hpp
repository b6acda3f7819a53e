#pragma once

// The fixture of the TLS and peer-role tests: certificates made at test
// time (test_certificates.hpp) and a cluster of real nodes on loopback
// (cluster_fixture.hpp) that uses them.

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "cluster_fixture.hpp"
#include "test_certificates.hpp"
#include "wire_probe.hpp"

namespace bus::node::test {

// A CA "main" that signs the bus and node-a and node-b, and a CA "other"
// that signs "rogue".
struct tls_fixture {
  scratch_dir dir;
  test_certificates certs{dir.path};
  cluster c;

  tls_fixture() {
    certs.make_ca("main");
    certs.make_ca("other");
    for (auto node : {"bus", "node-a", "node-b"})
      certs.make_node(node, "main");
    certs.make_node("rogue", "other");
  }

  std::uint16_t port() const { return static_cast<std::uint16_t>(std::stoi(c.port)); }

  probe_identity identity(const std::string& node) const {
    return {certs.path(node + ".pem"), certs.path(node + ".key"),
            certs.path("main.ca.pem")};
  }

  // Starts the bus with TLS and node-a, and waits until user_listing runs.
  void start_bus_and_node_a() {
    c.start_bus(certs.args("bus", "main"));
    c.start_projector("node-a", "projector-listing.json", certs.args("node-a", "main"));
    c.until_caught_up({"user_listing"});
  }

  // Publishes `stream` and checks that user_listing on node-a took every
  // event and equals its fold, and that user_by_email is nowhere.
  void check_only_node_a_serves(const std::vector<user_event>& stream,
                                std::size_t users) {
    std::set<std::string> seen;
    check_replies(stream, 0, c.publish(stream, 0, stream.size()), seen,
                  {"user_listing"});
    c.until_caught_up({"user_listing"});
    c.check_listing_equals_fold(stream, users);
    std::uint64_t head = 0;
    auto ms = c.models(head);
    BOOST_TEST(ms.count("user_by_email") == 0, c.last_status);
    std::set<std::string> ids;
    for (auto& e : stream)
      ids.insert(e.id);
    BOOST_TEST(head == ids.size(), "the log holds only the stream's events");
    // A refused client must not cost a good one its connection (it did,
    // through CAF's OpenSSL module: see apps/common/openssl_error_queue.cpp).
    auto a_err = c.projectors["node-a"]->err();
    BOOST_TEST(a_err.find("lost the bus") == std::string::npos, a_err);
  }
};

} // namespace bus::node::test
