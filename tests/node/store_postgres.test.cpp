// bus-node on a PostgreSQL store (--store postgresql://...): a restart on
// the same database gives back the log, and the read models rebuilt from it.

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "node_process.hpp"
#include "node_protocol.hpp"
#include "support/pg_scratch.hpp"
#include "user_stream.hpp"

using namespace bus::node::test;

BOOST_FIXTURE_TEST_SUITE(store_postgres, bus::test::pg_scratch)

BOOST_AUTO_TEST_CASE(restart_on_the_database_rebuilds_models_and_skips_redeliveries) {
  auto stream = make_stream(600, 50, 0);
  auto first = replies_to(requests(stream, 50), {"--store", uri});
  BOOST_REQUIRE_EQUAL(first.size(), 650u);
  for (std::size_t i = 0; i < 600; ++i)
    BOOST_TEST(first[i].text("type") == "read_models_updated", first[i].line);
  BOOST_TEST(select("SELECT sum(count) FROM bus_events") == "600");
  // Again, with group commit: every event is already there.
  auto second = replies_to(requests(stream, 50),
                           {"--store", uri, "--durability", "interval:5"});
  BOOST_REQUIRE_EQUAL(second.size(), 650u);
  for (std::size_t i = 0; i < 600; ++i) {
    BOOST_TEST(second[i].text("type") == "event_skipped", second[i].line);
    BOOST_TEST(second[i].text("event_id") == stream[i].id);
  }
  // The read models came back from the log: every query answers as before.
  for (std::size_t q = 600; q < 650; ++q)
    BOOST_TEST(second[q].line == first[q].line);
  BOOST_TEST(select("SELECT sum(count) FROM bus_events") == "600");
}

BOOST_AUTO_TEST_CASE(node_says_read_models_are_not_snapshotted_on_a_server) {
  auto result = run_node("", {"--store", uri});
  BOOST_TEST(result.exit_code == 0, result.err);
  BOOST_TEST(result.err.find("without snapshots") != std::string::npos, result.err);
  BOOST_TEST(result.err.find("holds 0 events") != std::string::npos, result.err);
}

BOOST_AUTO_TEST_CASE(unreachable_database_exits_2_naming_it) {
  auto result = run_node("",
                         {"--store", "postgresql:///nowhere?host=/nonexistent-dir"});
  BOOST_TEST(result.exit_code == 2, result.err);
  BOOST_TEST(result.err.find("postgresql:///nowhere") != std::string::npos, result.err);
}

BOOST_AUTO_TEST_SUITE_END()
