// Competing consumers across processes: a bus node and three projector
// nodes that share one partitioned model. One node is killed mid-stream and
// comes back; the queries equal a fold of the stream and every event was
// applied once by the partitions that run.

#include <boost/test/unit_test.hpp>

#include <csignal>

#include "consumer_group_checks.hpp"

using namespace bus::node::test;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(consumer_group_distributed)

BOOST_AUTO_TEST_CASE(three_nodes_share_a_model_through_the_loss_of_one) {
  constexpr std::size_t users = 150;
  auto stream = make_stream(3000, users, 10);
  scratch_dir dir;
  auto config = dir.write("shared.json", shared_listing);
  cluster c;
  c.start_bus();
  for (auto name : {"node-a", "node-b", "node-c"}) {
    c.start_projector(name, config);
    c.projectors[name]->wait_for_err("attached to the bus");
  }
  until_settled(c);
  c.publish(stream, 0, 1000);
  until_settled(c);
  applied_once_each(c);
  // node-b dies mid-stream: its partitions move to node-a and node-c,
  // which pull them from the log.
  c.projectors["node-b"]->stop(SIGKILL);
  c.publish(stream, 1000, 2000);
  until_settled(c);
  c.check_listing_equals_fold({stream.begin(), stream.begin() + 2000}, users);
  applied_once_each(c);
  // It comes back under its name: the partitions rebalance.
  c.start_projector("node-b", config);
  c.projectors["node-b"]->wait_for_err("attached to the bus");
  c.publish(stream, 2000, 3000);
  until_settled(c);
  c.check_listing_equals_fold(stream, users);
  applied_once_each(c);
}

BOOST_AUTO_TEST_SUITE_END()
