// Two bus nodes on one PostgreSQL log (issue 14): one leads, the other
// stands by; projector nodes given both follow whichever leads. Real
// processes on loopback against the tests' PostgreSQL cluster; every wait
// has a hard deadline.

#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "cluster_fixture.hpp"
#include "consumer_group_checks.hpp"
#include "support/http_client.hpp"
#include "support/pg_scratch.hpp"

using namespace std::chrono_literals;
using namespace bus::node::test;

namespace {

// A port nothing listens on now, for a bus node that listens only once it
// leads (projector nodes need its address before).
std::string free_port() {
  auto fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  BOOST_REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return std::to_string(ntohs(addr.sin_port));
}

struct failover_fixture : bus::test::pg_scratch {
  bus::node::test::cluster c;
  std::string port_a = free_port();
  std::string port_b = free_port();
  // The admin endpoint of the node that leads first.
  std::string admin_a = free_port();
  std::unique_ptr<node_child> standby;

  // A bus node on the shared log; by default it runs no read model.
  std::unique_ptr<node_child> start_bus_node(const std::string& port,
                                             std::vector<std::string> extra = {}) {
    if (extra.empty())
      extra = {"--config", config_dir + "/bus-only.json"};
    std::vector<std::string> args{"--listen", "127.0.0.1:" + port, "--store",
                                  uri,        "--lease-ms",        "1000"};
    args.insert(args.end(), extra.begin(), extra.end());
    return std::make_unique<node_child>(BUS_NODE_PATH, args);
  }

  // Node a leads, node b stands by, and node-a and node-b (the projector
  // nodes) run the two models, given both bus nodes, caught up.
  void start_all() {
    c.bus = start_bus_node(port_a, {"--config", config_dir + "/bus-only.json",
                                    "--admin", "127.0.0.1:" + admin_a});
    c.bus->wait_for_err("listening on 127.0.0.1:" + port_a);
    standby = start_bus_node(port_b);
    standby->wait_for_err("standing by");
    // The projector nodes dial "127.0.0.1:" + port: both bus nodes.
    c.port = port_a + ",127.0.0.1:" + port_b;
    c.start_projector("node-a", "projector-listing.json");
    c.start_projector("node-b", "projector-email.json");
    c.until_caught_up(c.both);
  }

  // The standby leads now: the cluster talks to it.
  std::chrono::milliseconds
  take_over_from(std::chrono::steady_clock::time_point since) {
    standby->wait_for_err("listening on 127.0.0.1:" + port_b, 30s);
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - since);
    c.bus = std::move(standby);
    return took;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(failover_distributed, failover_fixture)

BOOST_AUTO_TEST_CASE(a_killed_leader_is_replaced_and_nothing_acknowledged_is_lost) {
  start_all();
  auto stream = make_stream(600, 40, 10);
  std::set<std::string> seen;
  check_replies(stream, 0, c.publish(stream, 0, 300), seen, c.both);
  // Mid-stream: 100 more events sent, the leader killed once it answered
  // 50 of them. The client does not know what became of the other 50.
  std::string text;
  for (std::size_t i = 300; i < 400; ++i)
    text += event(c.next_msg_id++, stream[i].type,
                  boost::json::serialize(stream[i].payload), stream[i].id);
  c.bus->send(text);
  for (int i = 0; i < 50; ++i)
    BOOST_REQUIRE(parse_reply(c.bus->read_line()).text("type") != "error");
  c.bus->stop(SIGKILL);
  auto took = take_over_from(std::chrono::steady_clock::now());
  BOOST_TEST_MESSAGE("the standby took over " << took.count() << " ms after the kill");
  BOOST_TEST((took < 20s));
  // The projector nodes follow it.
  c.until_caught_up(c.both);
  // The client sends everything not acknowledged again, then the rest:
  // what the old leader committed is skipped, nothing is lost.
  auto resent = c.publish(stream, 350, 600);
  for (auto& r : resent)
    BOOST_TEST((r.text("type") == "read_models_updated"
                || r.text("type") == "event_skipped"),
               r.line);
  c.until_caught_up(c.both);
  c.check_models_equal_folds(stream, 40);
  c.check_applied_once(stream);
}

BOOST_AUTO_TEST_CASE(a_leader_stopped_past_its_lease_appends_nothing_when_it_returns) {
  start_all();
  auto stream = make_stream(300, 30, 0);
  std::set<std::string> seen;
  check_replies(stream, 0, c.publish(stream, 0, 100), seen, c.both);
  // Its operators see that it leads, and by which token.
  auto admin_port = static_cast<std::uint16_t>(std::stoi(admin_a));
  auto status = bus::test::http_get(admin_port, "/status");
  BOOST_TEST(status.find(R"("lease": {"state": "leading", "name": "bus")")
               != std::string::npos,
             status);
  BOOST_TEST(status.find(R"("token": 1,)") != std::string::npos, status);
  auto metrics = bus::test::http_get(admin_port, "/metrics");
  BOOST_TEST(metrics.find("bus_lease_state{state=\"leading\"} 1") != std::string::npos,
             metrics);
  auto old_leader = std::move(c.bus);
  ::kill(old_leader->pid(), SIGSTOP);
  auto took = take_over_from(std::chrono::steady_clock::now());
  BOOST_TEST_MESSAGE("the standby took over " << took.count()
                                              << " ms after the leader stopped");
  c.until_caught_up(c.both);
  check_replies(stream, 100, c.publish(stream, 100, 200), seen, c.both);
  // Back: the old leader may have requests in its input, it answers each
  // with an error and appends nothing.
  ::kill(old_leader->pid(), SIGCONT);
  std::string text;
  long long id = 1'000'000;
  for (std::size_t i = 200; i < 220; ++i)
    text += event(id++, stream[i].type, boost::json::serialize(stream[i].payload),
                  stream[i].id);
  old_leader->send(text);
  for (int i = 0; i < 20; ++i) {
    auto r = parse_reply(old_leader->read_line());
    BOOST_TEST(r.text("type") == "error", r.line);
  }
  old_leader->wait_for_err("no longer leads");
  // Once it knows, it answers nothing from its stale state either.
  old_leader->send(request(R"({"type": "status", "msg_id": 7})"));
  auto refused = parse_reply(old_leader->read_line());
  BOOST_TEST(refused.text("type") == "error", refused.line);
  BOOST_TEST(refused.json("code") == "11", refused.line);
  BOOST_TEST(refused.text("text").find("no longer leads the log") != std::string::npos,
             refused.line);
  // Its health check tells a load balancer or an operator why.
  auto health = bus::test::http_get(admin_port, "/health");
  BOOST_TEST(health.rfind("HTTP/1.1 503", 0) == 0, health);
  BOOST_TEST(health.find("no longer leads the log") != std::string::npos, health);
  // The log holds exactly what the new leader acknowledged.
  BOOST_TEST(select("SELECT sum(count) FROM bus_events") == "200");
  c.until_caught_up(c.both);
  std::vector<user_event> taken(stream.begin(), stream.begin() + 200);
  c.check_models_equal_folds(taken, 30);
  c.check_applied_once(taken);
}

BOOST_AUTO_TEST_CASE(a_leader_whose_database_restarts_refuses_meanwhile_and_recovers) {
  c.bus = start_bus_node(port_a);
  c.bus->wait_for_err("listening on 127.0.0.1:" + port_a);
  c.port = port_a;
  c.start_projector("node-a", "projector-listing.json");
  c.start_projector("node-b", "projector-email.json");
  c.until_caught_up(c.both);
  auto stream = make_stream(200, 20, 0);
  std::set<std::string> seen;
  check_replies(stream, 0, c.publish(stream, 0, 100), seen, c.both);
  cluster("stop");
  // Every event sent meanwhile is refused, none acknowledged.
  auto refused = c.publish(stream, 100, 110);
  for (auto& r : refused)
    BOOST_TEST(r.text("type") == "error", r.line);
  cluster("start");
  // Once the database is back, the same events are taken (the client
  // retries until they are).
  auto deadline = std::chrono::steady_clock::now() + 30s;
  std::vector<reply> retried;
  do {
    std::this_thread::sleep_for(100ms);
    retried = c.publish(stream, 100, 101);
  } while (retried.front().text("type") == "error"
           && std::chrono::steady_clock::now() < deadline);
  BOOST_REQUIRE_MESSAGE(retried.front().text("type") == "read_models_updated",
                        retried.front().line);
  check_replies(stream, 101, c.publish(stream, 101, 200), seen, c.both);
  c.until_caught_up(c.both);
  c.check_models_equal_folds(stream, 20);
  c.check_applied_once(stream);
}

BOOST_AUTO_TEST_CASE(a_standby_taking_the_lead_restores_its_models_from_the_snapshots) {
  // Both bus nodes run the two read models themselves (the embedded
  // default configuration), snapshotted in the log's database.
  std::vector<std::string> own_models{"--snapshot-every", "100"};
  c.bus = start_bus_node(port_a, own_models);
  c.bus->wait_for_err("listening on 127.0.0.1:" + port_a);
  standby = start_bus_node(port_b, own_models);
  standby->wait_for_err("standing by");
  auto stream = make_stream(1000, 50, 0);
  std::set<std::string> seen;
  check_replies(stream, 0, c.publish(stream, 0, 1000), seen, c.both);
  // Each model's snapshot at 900 or later is in the database.
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (select("SELECT count(*) FROM bus_snapshots WHERE checkpoint >= 900") != "2"
         && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(50ms);
  c.bus->stop(SIGKILL);
  take_over_from(std::chrono::steady_clock::now());
  c.until_caught_up(c.both);
  // The new leader restored its models from the snapshots the old one
  // wrote, and replayed only the events after them.
  std::uint64_t head = 0;
  auto models = c.models(head);
  BOOST_TEST(head == 1000u);
  for (auto& name : c.both)
    BOOST_TEST(models[name].at("applied").as_int64() <= 100, c.last_status);
  c.check_models_equal_folds(stream, 50);
}

BOOST_AUTO_TEST_CASE(a_standby_taking_the_lead_keeps_the_pauses_of_shared_models) {
  // Three projector nodes share a 6-partition model, paused at `frozen`.
  // The leader and node-b are lost together: the standby takes the lead
  // and node-a and node-c take node-b's partitions (replaying from seq 1,
  // without stores), which must hold at `frozen` as the leader kept their
  // pauses in the database. (Without them, the partitions ran on past the
  // pause in two runs of three: which node reattaches first decides.)
  scratch_dir dir;
  auto config = dir.write("shared.json", shared_listing);
  c.bus = start_bus_node(port_a);
  c.bus->wait_for_err("listening on 127.0.0.1:" + port_a);
  standby = start_bus_node(port_b);
  standby->wait_for_err("standing by");
  c.port = port_a + ",127.0.0.1:" + port_b;
  for (auto name : {"node-a", "node-b", "node-c"}) {
    c.start_projector(name, config);
    c.projectors[name]->wait_for_err("attached to the bus");
  }
  until_settled(c);
  constexpr std::size_t users = 150;
  auto stream = make_stream(2000, users, 10);
  std::vector<user_event> before{stream.begin(), stream.begin() + 1000};
  c.publish(stream, 0, 1000);
  until_settled(c);
  auto paused = c.call(R"("type": "pause", "model": "user_listing")");
  BOOST_REQUIRE_MESSAGE(paused.text("type") == "paused", paused.line);
  std::uint64_t frozen = 0;
  c.models(frozen);
  until_paused_at(c, frozen);
  c.publish(stream, 1000, 2000);
  std::uint64_t head = 0;
  c.models(head);
  c.projectors["node-b"]->stop(SIGKILL);
  c.bus->stop(SIGKILL);
  take_over_from(std::chrono::steady_clock::now());
  for (auto name : {"node-a", "node-c"})
    c.projectors[name]->wait_for_err("attached to the bus (head seq "
                                     + std::to_string(head) + ")");
  // Queried while node-b's partitions move: the frozen state or error 11.
  check_frozen_or_unavailable(c, before, users);
  until_paused_at(c, frozen);
  c.check_listing_equals_fold(before, users);
  auto resumed = c.call(R"("type": "resume", "model": "user_listing")");
  BOOST_REQUIRE_MESSAGE(resumed.text("type") == "resumed", resumed.line);
  until_settled(c);
  c.check_listing_equals_fold(stream, users);
  applied_once_each(c);
}

BOOST_AUTO_TEST_SUITE_END()
