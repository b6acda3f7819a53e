// Competing consumers: projector nodes that share a partitioned model
// (bus/consumer_group.hpp). The bus spreads the partitions over the live
// nodes, moves a lost node's to the survivors and rebalances when it
// returns; the bus's node routes queries to the partition's node.

#include "bus/actors/supervisor.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "bus/errc.hpp"
#include "bus/partitions.hpp"
#include "support/bus_fixture.hpp"

using namespace std::chrono_literals;
using namespace bus;
using namespace bus::actors;
using namespace bus::test;

namespace {

constexpr std::size_t group_keys = 17;
constexpr std::uint32_t parts = 6;

model_spec tallies(std::uint32_t partitions) {
  auto spec = tally("t", {"A", "B"});
  spec.partitions = partitions;
  return spec;
}

struct group_fixture : bus_fixture {
  supervision_policy policy;
  supervisor_actor front;
  std::map<std::string, supervisor_actor> nodes;

  group_fixture() {
    front = spawn_routing_supervisor(sys, bus, std::vector<model_spec>{}, policy,
                                     replaying(8), remote_routing{});
    run();
  }

  ~group_fixture() {
    self->send_exit(front, caf::exit_reason::user_shutdown);
    for (auto& [name, sup] : nodes)
      self->send_exit(sup, caf::exit_reason::user_shutdown);
    run();
  }

  caf::expected<std::uint64_t> join(const std::string& name,
                                    std::uint32_t partitions = parts) {
    // As bus-projector does: the bus assigns the partitions.
    auto options = replaying(8);
    options.placement = partition_placement::by_bus;
    auto sup = spawn_supervisor(sys, bus, std::vector<model_spec>{tallies(partitions)},
                                policy, options);
    run();
    auto head = ask<std::uint64_t>(bus, attach_atom::value, name,
                                   caf::actor_cast<caf::actor>(sup),
                                   std::vector<std::string>{},
                                   std::vector<shared_model>{{"t", partitions}});
    if (head)
      nodes[name] = sup;
    else
      self->send_exit(sup, caf::exit_reason::user_shutdown);
    run();
    return head;
  }

  void crash(const std::string& name) {
    self->send_exit(nodes.at(name), caf::exit_reason::kill);
    nodes.erase(name);
    run();
  }

  // The partitions each node runs, from its own status.
  std::map<std::string, std::set<std::string>> placement() {
    std::map<std::string, std::set<std::string>> result;
    for (auto& [name, sup] : nodes) {
      auto xs = ask<std::vector<projector_status>>(sup, status_atom::value);
      BOOST_REQUIRE(xs);
      for (auto& x : *xs)
        result[name].insert(x.model);
    }
    return result;
  }

  // Events applied by the partitions running now, over every node.
  std::uint64_t applied() {
    std::uint64_t result = 0;
    for (auto& [name, sup] : nodes) {
      auto xs = ask<std::vector<projector_status>>(sup, status_atom::value);
      BOOST_REQUIRE(xs);
      for (auto& x : *xs)
        result += x.applied;
    }
    return result;
  }

  // Every key's query on the bus's node equals a fold of the log up to
  // `through` (the whole log by default).
  void check_queries(std::uint64_t through = UINT64_MAX) {
    std::map<std::string, std::int64_t> fold;
    for (auto& e : whole_log())
      if (e.seq <= through)
        fold[std::string{e.payload.at("k").as_string()}]
          += e.payload.at("n").as_int64();
    for (auto& [key, sum] : fold) {
      auto q = ask<query_result>(front, query_atom::value, std::string{"t"}, key);
      BOOST_TEST_CONTEXT("key " << key) {
        BOOST_REQUIRE(q);
        BOOST_TEST(q->model == "t");
        BOOST_TEST(q->value == boost::json::value(sum));
      }
    }
  }

  // The bus's node's status of the model's partitions, in partition order.
  std::vector<projector_status> front_partitions() {
    auto xs = ask<std::vector<projector_status>>(front, status_atom::value);
    BOOST_REQUIRE(xs);
    auto result = *xs;
    std::sort(result.begin(), result.end(),
              [](auto& x, auto& y) { return x.model < y.model; });
    return result;
  }

  caf::expected<std::vector<model_checkpoint>> await_on_front(std::string model) {
    return ask<std::vector<model_checkpoint>>(front, await_atom::value,
                                              std::uint64_t{1}, std::move(model),
                                              caf::timespan{std::chrono::seconds{5}});
  }

  // Each partition runs on exactly one node.
  void check_each_partition_once(std::size_t members) {
    std::multiset<std::string> all;
    for (auto& [name, ps] : placement()) {
      BOOST_TEST(ps.size() >= parts / members, name);
      BOOST_TEST(ps.size() <= parts / members + 1, name);
      all.insert(ps.begin(), ps.end());
    }
    BOOST_TEST(all.size() == parts);
    for (std::uint32_t i = 0; i < parts; ++i)
      BOOST_TEST(all.count(partition_name("t", i)) == 1u);
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(consumer_group, group_fixture)

BOOST_AUTO_TEST_CASE(nodes_that_share_a_model_split_its_partitions) {
  BOOST_REQUIRE(join("node-a"));
  BOOST_REQUIRE(join("node-b"));
  BOOST_REQUIRE(join("node-c"));
  check_each_partition_once(3);
  publish(events(0, 120, {"A", "B"}, group_keys));
  // Every event was applied once, by the one partition of its key.
  BOOST_TEST(applied() == 120u);
  check_queries();
  auto missing = ask<query_result>(front, query_atom::value, std::string{"t"},
                                   std::string{"nobody"});
  BOOST_REQUIRE(!missing);
  BOOST_TEST(code_of(missing.error()) == errc::no_such_key);
  BOOST_TEST(context_of(missing.error()) == "read model 't' has no key 'nobody'");
}

BOOST_AUTO_TEST_CASE(a_lost_nodes_partitions_move_and_come_back_with_it) {
  BOOST_REQUIRE(join("node-a"));
  BOOST_REQUIRE(join("node-b"));
  BOOST_REQUIRE(join("node-c"));
  publish(events(0, 60, {"A", "B"}, group_keys));
  crash("node-b");
  // The survivors took its partitions and pulled them from the log.
  check_each_partition_once(2);
  publish(events(60, 60, {"A", "B"}, group_keys));
  BOOST_TEST(applied() == 120u);
  check_queries();
  // It returns (a new process under its name): the partitions rebalance.
  BOOST_REQUIRE(join("node-b"));
  check_each_partition_once(3);
  publish(events(120, 30, {"A", "B"}, group_keys));
  BOOST_TEST(applied() == 150u);
  check_queries();
}

BOOST_AUTO_TEST_CASE(lifecycle_requests_reach_every_node_of_the_model) {
  BOOST_REQUIRE(join("node-a"));
  BOOST_REQUIRE(join("node-b"));
  publish(events(0, 20, {"A", "B"}, group_keys));
  auto paused = ask<projector_status>(front, pause_atom::value, std::string{"t"});
  BOOST_REQUIRE(paused);
  BOOST_TEST(paused->model == "t");
  BOOST_TEST(paused->state == model_state::paused);
  for (auto& [name, sup] : nodes) {
    auto xs = ask<std::vector<projector_status>>(sup, status_atom::value);
    BOOST_REQUIRE(xs);
    for (auto& x : *xs)
      BOOST_TEST(x.state == model_state::paused, name << " " << x.model);
  }
  BOOST_REQUIRE(ask<projector_status>(front, resume_atom::value, std::string{"t"}));
  // A wait on the bus's node covers the partitions of every node.
  auto done = ask<std::vector<model_checkpoint>>(
    front, await_atom::value, std::uint64_t{20}, std::string{"t"},
    caf::timespan{std::chrono::seconds{5}});
  BOOST_REQUIRE(done);
  BOOST_TEST(done->size() == parts);
  // A request that needs one partition says so; one partition can be named.
  auto snap = ask<model_snapshot>(front, snapshot_atom::value, std::string{"t"});
  BOOST_REQUIRE(!snap);
  BOOST_TEST(code_of(snap.error()) == errc::precondition_failed);
  BOOST_TEST(static_cast<bool>(
    ask<model_snapshot>(front, snapshot_atom::value, std::string{"t#3"})));
}

BOOST_AUTO_TEST_CASE(a_pause_moves_with_a_lost_nodes_partitions) {
  BOOST_REQUIRE(join("node-a"));
  BOOST_REQUIRE(join("node-b"));
  BOOST_REQUIRE(join("node-c"));
  publish(events(0, 60, {"A", "B"}, group_keys));
  BOOST_REQUIRE(ask<projector_status>(front, pause_atom::value, std::string{"t"}));
  publish(events(60, 60, {"A", "B"}, group_keys));
  // Each partition, wherever it runs now, is paused at the point it froze
  // at: the moved ones replayed up to it and hold there.
  auto paused_at_60 = [this](std::size_t members) {
    check_each_partition_once(members);
    for (auto& x : front_partitions()) {
      BOOST_TEST(x.state == model_state::paused, x.model);
      BOOST_TEST(x.checkpoint == 60u, x.model);
    }
    BOOST_TEST(applied() == 60u);
    check_queries(60);
  };
  crash("node-b");
  paused_at_60(2);
  // It returns: the partitions it gets back hold at the same point.
  BOOST_REQUIRE(join("node-b"));
  paused_at_60(3);
  BOOST_REQUIRE(ask<projector_status>(front, resume_atom::value, std::string{"t"}));
  for (auto& x : front_partitions())
    BOOST_TEST(x.state == model_state::running, x.model);
  BOOST_TEST(applied() == 120u);
  check_queries();
}

BOOST_AUTO_TEST_CASE(a_node_that_returns_takes_the_pause_the_model_has_now) {
  BOOST_REQUIRE(join("node-a"));
  BOOST_REQUIRE(join("node-b"));
  publish(events(0, 30, {"A", "B"}, group_keys));
  BOOST_REQUIRE(ask<projector_status>(front, pause_atom::value, std::string{"t"}));
  // node-b is lost and back while the model is paused; resumed, the model
  // runs on both. Then paused while node-a is lost: node-a comes back
  // running every partition (its own idea of the model), and the ones it
  // gets hold at the point they froze at.
  crash("node-b");
  BOOST_REQUIRE(join("node-b"));
  BOOST_REQUIRE(ask<projector_status>(front, resume_atom::value, std::string{"t"}));
  publish(events(30, 30, {"A", "B"}, group_keys));
  crash("node-a");
  BOOST_REQUIRE(ask<projector_status>(front, pause_atom::value, std::string{"t"}));
  publish(events(60, 30, {"A", "B"}, group_keys));
  BOOST_REQUIRE(join("node-a"));
  check_each_partition_once(2);
  for (auto& x : front_partitions()) {
    BOOST_TEST(x.state == model_state::paused, x.model);
    BOOST_TEST(x.checkpoint == 60u, x.model);
  }
  check_queries(60);
  BOOST_REQUIRE(ask<projector_status>(front, resume_atom::value, std::string{"t"}));
  BOOST_TEST(applied() == 90u);
  check_queries();
}

BOOST_AUTO_TEST_CASE(nodes_that_disagree_on_the_model_are_refused) {
  BOOST_REQUIRE(join("node-a"));
  auto other_count = join("node-b", 4);
  BOOST_REQUIRE(!other_count);
  BOOST_TEST(code_of(other_count.error()) == errc::precondition_failed);
  BOOST_TEST(context_of(other_count.error())
             == "read model 't' runs as 6 partitions on node 'node-a', not 4");
  // A node serving it whole is refused too.
  auto whole = spawn_supervisor(sys, bus, std::vector<model_spec>{tally("t", {"A"})},
                                policy, replaying(8));
  run();
  auto refused = ask<std::uint64_t>(bus, attach_atom::value, std::string{"node-c"},
                                    caf::actor_cast<caf::actor>(whole),
                                    std::vector<std::string>{"t"});
  BOOST_REQUIRE(!refused);
  BOOST_TEST(code_of(refused.error()) == errc::precondition_failed);
  self->send_exit(whole, caf::exit_reason::user_shutdown);
  check_each_partition_once(1);
}

BOOST_AUTO_TEST_CASE(the_last_nodes_loss_leaves_the_partitions_away) {
  BOOST_REQUIRE(join("node-a"));
  BOOST_REQUIRE(join("node-b"));
  publish(events(0, 20, {"A", "B"}, group_keys));
  crash("node-a");
  // A lost node whose partitions all moved leaves nothing away.
  BOOST_TEST(static_cast<bool>(await_on_front("")));
  crash("node-b");
  // As a lost node's whole model: listed away, per partition, under the
  // node that ran it last.
  auto st = front_partitions();
  BOOST_REQUIRE(st.size() == parts);
  for (std::uint32_t i = 0; i < parts; ++i) {
    BOOST_TEST(st[i].model == partition_name("t", i));
    BOOST_TEST(st[i].state == model_state::away);
    BOOST_TEST(st[i].last_error == "node 'node-b' is not connected");
  }
  auto q = ask<query_result>(front, query_atom::value, std::string{"t"},
                             std::string{"key0"});
  BOOST_REQUIRE(!q);
  BOOST_TEST(code_of(q.error()) == errc::model_unavailable);
  for (std::string model : {"t", ""}) {
    auto done = await_on_front(model);
    BOOST_REQUIRE(!done);
    BOOST_TEST(code_of(done.error()) == errc::model_unavailable, model);
  }
  // A node that shares it again runs every partition, none away.
  BOOST_REQUIRE(join("node-c"));
  st = front_partitions();
  BOOST_REQUIRE(st.size() == parts);
  for (auto& x : st)
    BOOST_TEST(x.state != model_state::away, x.model);
  BOOST_TEST(static_cast<bool>(await_on_front("t")));
}

BOOST_AUTO_TEST_SUITE_END()
