#include "bus/endpoint.hpp"

#include <boost/test/unit_test.hpp>

#include "bus/errc.hpp"

using namespace bus;

BOOST_AUTO_TEST_SUITE(endpoint)

BOOST_AUTO_TEST_CASE(host_and_port_are_split_at_the_last_colon) {
  auto x = parse_endpoint("127.0.0.1:4100");
  BOOST_REQUIRE(x);
  BOOST_TEST(x->host == "127.0.0.1");
  BOOST_TEST(x->port == 4100u);
  auto v6 = parse_endpoint("::1:0");
  BOOST_REQUIRE(v6);
  BOOST_TEST(v6->host == "::1");
  BOOST_TEST(v6->port == 0u);
}

// The form URLs use, and the node prints its admin address in:
// http://[::1]:4100/.
BOOST_AUTO_TEST_CASE(an_ipv6_host_may_come_in_brackets) {
  auto x = parse_endpoint("[::1]:4100");
  BOOST_REQUIRE(x);
  BOOST_TEST(x->host == "::1");
  BOOST_TEST(x->port == 4100u);
  BOOST_TEST(is_loopback(x->host));
}

BOOST_AUTO_TEST_CASE(malformed_text_is_an_error_naming_it) {
  for (auto text : {"localhost", ":4100", "host:", "host:65536", "host:-1", "host:12a",
                    "host:123456", "[::1:4100", "::1]:4100", "[]:4100"}) {
    auto x = parse_endpoint(text);
    BOOST_REQUIRE_MESSAGE(!x, text);
    BOOST_TEST(code_of(x.error()) == errc::invalid_config);
    BOOST_TEST(context_of(x.error()).find(text) != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(only_this_machine_counts_as_loopback) {
  BOOST_TEST(is_loopback("127.0.0.1"));
  BOOST_TEST(is_loopback("127.1.2.3"));
  BOOST_TEST(is_loopback("localhost"));
  BOOST_TEST(is_loopback("::1"));
  BOOST_TEST(!is_loopback("0.0.0.0"));
  BOOST_TEST(!is_loopback("10.0.0.1"));
  BOOST_TEST(!is_loopback("1127.0.0.1"));
}

BOOST_AUTO_TEST_SUITE_END()
