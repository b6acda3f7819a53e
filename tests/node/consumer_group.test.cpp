// Competing consumers across processes: a bus node and three projector
// nodes that share one partitioned model. One node is killed mid-stream and
// comes back; the queries equal a fold of the stream and every event was
// applied once by the partitions that run.

#include <boost/test/unit_test.hpp>

#include <csignal>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "cluster_fixture.hpp"

using namespace bus::node::test;
using namespace std::chrono_literals;

namespace {

constexpr int partitions = 6;

const char* shared_listing = R"({"read_models": [{"name": "user_listing",
  "kind": "document", "key": "id", "merge_on": ["UserCreated", "UserUpdated"],
  "delete_on": ["UserDeleted"], "partitions": 6}]})";

std::vector<std::string> all_partitions() {
  std::vector<std::string> result;
  for (int i = 0; i < partitions; ++i)
    result.push_back("user_listing#" + std::to_string(i));
  return result;
}

// Polls the bus node's status (hard deadline) until each partition is
// listed once (a rebalance is over: no node runs one it gave away) and runs
// at the head.
void until_settled(cluster& c) {
  auto deadline = std::chrono::steady_clock::now() + scaled(60s);
  while (std::chrono::steady_clock::now() < deadline) {
    std::uint64_t head = 0;
    c.models(head);
    auto& status = c.last_status;
    bool settled = true;
    for (auto& name : all_partitions()) {
      auto quoted = "\"" + name + "\"";
      auto first = status.find(quoted);
      settled = settled && first != std::string::npos
                && status.find(quoted, first + 1) == std::string::npos;
    }
    if (settled) {
      auto ms = c.models(head);
      for (auto& name : all_partitions()) {
        auto i = ms.find(name);
        settled = settled && i != ms.end()
                  && i->second.at("state").as_string() == "running"
                  && static_cast<std::uint64_t>(i->second.at("checkpoint").as_int64())
                       == head;
      }
    }
    if (settled)
      return;
    std::this_thread::sleep_for(50ms);
  }
  BOOST_FAIL("the partitions did not settle within 60 s: " + c.last_status);
}

// Each partition is listed once in the bus node's status (it runs on one
// node); returns the events they applied, summed.
std::int64_t applied_once_each(cluster& c) {
  std::uint64_t head = 0;
  auto ms = c.models(head);
  std::int64_t applied = 0;
  for (auto& name : all_partitions()) {
    auto i = ms.find(name);
    BOOST_REQUIRE_MESSAGE(i != ms.end(), name + " missing: " + c.last_status);
    applied += i->second.at("applied").as_int64();
  }
  auto status = c.last_status;
  for (auto& name : all_partitions()) {
    auto first = status.find("\"" + name + "\"");
    BOOST_TEST((first != std::string::npos
                && status.find("\"" + name + "\"", first + 1) == std::string::npos),
               name << " listed more than once: " << status);
  }
  BOOST_TEST(applied == static_cast<std::int64_t>(head));
  return applied;
}

} // namespace

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
