// A model run as key-hash partitions under one supervisor: routing,
// failure of one partition, lifecycle requests, snapshots and acks.

#include "bus/actors/supervisor.hpp"

#include <set>

#include "bus/document_model.hpp"
#include "bus/errc.hpp"
#include "bus/partitions.hpp"
#include "support/supervisor_fixture.hpp"

using namespace std::chrono_literals;
using namespace bus;
using namespace bus::actors;
using namespace bus::test;

namespace {

constexpr std::size_t keys = 17;

model_spec tallies(std::string name, std::uint32_t partitions,
                   std::shared_ptr<fault_plan> faults = nullptr) {
  auto spec = tally(std::move(name), {"A", "B"}, std::move(faults));
  spec.partitions = partitions;
  return spec;
}

model_spec documents(std::string name, std::uint32_t partitions) {
  document_model_config cfg;
  cfg.name = name;
  cfg.key = "k";
  cfg.merge_on = {"A", "B"};
  model_spec spec{name, [cfg] { return std::make_unique<document_model>(cfg); }};
  spec.partitions = partitions;
  return spec;
}

// Counts events per type and answers queries by type: its queries are not
// by the key of its events (it has none), so it is not key-local.
class type_counter final : public read_model {
public:
  const std::string& name() const noexcept override { return name_; }
  const std::vector<std::string>& event_types() const noexcept override {
    return types_;
  }
  bool apply(const event& e) override {
    ++counts_[e.type];
    return true;
  }
  std::optional<boost::json::value> query(std::string_view key) const override {
    if (auto i = counts_.find(std::string{key}); i != counts_.end())
      return boost::json::value(i->second);
    return std::nullopt;
  }
  boost::json::value snapshot() const override {
    boost::json::object result;
    for (auto& [type, n] : counts_)
      result[type] = n;
    return result;
  }
  void reset() override { counts_.clear(); }

private:
  std::string name_ = "types";
  std::vector<std::string> types_{"A", "B"};
  std::map<std::string, std::int64_t> counts_;
};

struct partition_fixture : supervisor_fixture {
  // The sums per key of a tally over the whole log, folded here.
  std::map<std::string, std::int64_t> fold() {
    std::map<std::string, std::int64_t> result;
    for (auto& e : whole_log())
      result[std::string{e.payload.at("k").as_string()}]
        += e.payload.at("n").as_int64();
    return result;
  }

  // Every key's query through the supervisor equals the fold.
  void check_queries(const std::string& model) {
    for (auto& [key, sum] : fold()) {
      auto q = ask<query_result>(sup, query_atom::value, model, key);
      BOOST_TEST_CONTEXT("key " << key) {
        BOOST_REQUIRE(q);
        BOOST_TEST(q->model == model); // the model asked for, not a partition
        BOOST_TEST(q->value == boost::json::value(sum));
      }
    }
  }

  // The name of the partition of "t" that holds `key`.
  std::string partition_for_key(const std::string& key) {
    auto n = state_of<supervisor_state>(sup).partitioned.at("t").count;
    return partition_name("t", partition_of(key, n));
  }

  projector_status partition(const std::string& name) {
    for (auto& s : status())
      if (s.model == name)
        return s;
    BOOST_FAIL("no status for " << name);
    return {};
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(supervisor_partitions, partition_fixture)

BOOST_AUTO_TEST_CASE(queries_route_to_the_partition_of_their_key_and_equal_the_fold) {
  start({tallies("t", 4)});
  auto ack = publish(events(0, 120, {"A", "B"}, keys));
  // Status shows each partition; together they applied each event once.
  auto st = status();
  BOOST_REQUIRE(st.size() == 4u);
  std::uint64_t applied = 0;
  for (std::uint32_t i = 0; i < 4; ++i) {
    BOOST_TEST(st[i].model == partition_name("t", i));
    BOOST_TEST(st[i].state == model_state::running);
    BOOST_TEST(st[i].checkpoint == 120u);
    BOOST_TEST(st[i].applied > 0u);
    applied += st[i].applied;
  }
  BOOST_TEST(applied == 120u);
  check_queries("t");
  // The ack names the model, not its partitions, and each event once.
  std::multiset<std::uint32_t> took;
  for (auto& m : ack.models) {
    BOOST_TEST(m.model == "t");
    took.insert(m.applied.begin(), m.applied.end());
  }
  BOOST_TEST(took.size() == 120u);
  for (std::uint32_t j = 0; j < 120; ++j)
    BOOST_TEST(took.count(j) == 1u);
  // A key no event had is absent in its partition, as in a whole model.
  auto q = ask<query_result>(sup, query_atom::value, std::string{"t"},
                             std::string{"nobody"});
  BOOST_REQUIRE(!q);
  BOOST_TEST(code_of(q.error()) == errc::no_such_key);
  BOOST_TEST(context_of(q.error()) == "read model 't' has no key 'nobody'");
  // A partition can be asked by its own name too.
  auto home = partition_for_key("key3");
  auto direct = ask<query_result>(sup, query_atom::value, home, std::string{"key3"});
  BOOST_REQUIRE(direct);
  // A redelivery is skipped by the partition that applied it.
  publish(events(0, 120, {"A", "B"}, keys));
  applied = 0;
  for (auto& s : status())
    applied += s.applied;
  BOOST_TEST(applied == 120u);
  check_queries("t");
}

BOOST_AUTO_TEST_CASE(a_failing_partition_restarts_alone_and_catches_up) {
  auto faults = std::make_shared<fault_plan>(fault_plan{7, 1});
  start({tallies("t", 4, faults)});
  publish(events(0, 30, {"A", "B"}, keys));
  // Seq 7 is events(...)[6]: key6.
  auto broken = partition_for_key("key6");
  for (auto& s : status()) {
    BOOST_TEST_CONTEXT(s.model) {
      if (s.model == broken) {
        BOOST_TEST(s.state == model_state::restarting);
        BOOST_TEST(s.last_error.find("seq 7") != std::string::npos);
      } else {
        BOOST_TEST(s.state == model_state::running);
        BOOST_TEST(s.checkpoint == 30u);
      }
    }
  }
  publish(events(30, 30, {"A", "B"}, keys));
  sched.advance_time(100ms);
  run();
  for (auto& s : status()) {
    BOOST_TEST(s.state == model_state::running);
    BOOST_TEST(s.checkpoint == 60u);
    BOOST_TEST(s.restarts == (s.model == broken ? 1u : 0u));
  }
  check_queries("t");
}

BOOST_AUTO_TEST_CASE(pause_resume_rebuild_and_restart_reach_every_partition) {
  start({tallies("t", 3)});
  publish(events(0, 40, {"A", "B"}, keys));
  auto paused = ask<projector_status>(sup, pause_atom::value, std::string{"t"});
  BOOST_REQUIRE(paused);
  BOOST_TEST(paused->model == "t");
  BOOST_TEST(paused->state == model_state::paused);
  BOOST_TEST(paused->applied == 40u); // summed over the partitions
  for (auto& s : status())
    BOOST_TEST(s.state == model_state::paused);
  publish(events(40, 20, {"A", "B"}, keys), publish_wait::log);
  BOOST_TEST(partition(partition_name("t", 0)).checkpoint == 40u);
  auto resumed = ask<projector_status>(sup, resume_atom::value, std::string{"t"});
  BOOST_REQUIRE(resumed);
  BOOST_TEST(resumed->model == "t");
  run();
  for (auto& s : status()) {
    BOOST_TEST(s.state == model_state::running);
    BOOST_TEST(s.checkpoint == 60u);
  }
  check_queries("t");
  auto rebuilt = ask<projector_status>(sup, rebuild_atom::value, std::string{"t"});
  BOOST_REQUIRE(rebuilt);
  run();
  for (auto& s : status()) {
    BOOST_TEST(s.rebuilds == 1u);
    BOOST_TEST(s.checkpoint == 60u);
  }
  check_queries("t");
  auto restarted = ask<projector_status>(sup, restart_atom::value, std::string{"t"});
  BOOST_REQUIRE(restarted);
  run();
  for (auto& s : status())
    BOOST_TEST(s.state == model_state::running);
  check_queries("t");
}

BOOST_AUTO_TEST_CASE(a_snapshot_merges_the_partitions_into_the_whole_model) {
  start({documents("whole", 1), documents("parts", 4)});
  publish(events(0, 90, {"A", "B"}, keys));
  auto whole = ask<model_snapshot>(sup, snapshot_atom::value, std::string{"whole"});
  auto parts = ask<model_snapshot>(sup, snapshot_atom::value, std::string{"parts"});
  BOOST_REQUIRE(whole);
  BOOST_REQUIRE(parts);
  BOOST_TEST(parts->model == "parts");
  BOOST_TEST(parts->checkpoint == 90u);
  BOOST_TEST(parts->state.as_object().size() == keys);
  BOOST_TEST(parts->state == whole->state);
}

BOOST_AUTO_TEST_CASE(requests_that_need_one_partition_say_which_ones_exist) {
  start({tallies("t", 2)});
  publish(events(0, 10, {"A", "B"}, keys));
  // A tally's state is an object, but not one of its keys (it does not
  // track its changes): merging its partitions' would be a wrong answer.
  auto snap = ask<model_snapshot>(sup, snapshot_atom::value, std::string{"t"});
  BOOST_REQUIRE(!snap);
  BOOST_TEST(code_of(snap.error()) == errc::precondition_failed);
  BOOST_TEST(context_of(snap.error()).find("'t#0' to 't#1'") != std::string::npos);
  auto listed = ask<parked_list>(sup, parked_atom::value, std::string{"t"});
  BOOST_REQUIRE(!listed);
  BOOST_TEST(code_of(listed.error()) == errc::precondition_failed);
  BOOST_TEST(context_of(listed.error()).find("'t#0' to 't#1'") != std::string::npos);
  BOOST_TEST(
    static_cast<bool>(ask<parked_list>(sup, parked_atom::value, std::string{"t#1"})));
  // Blue/green is refused for a partitioned model and into one.
  auto shadow = ask<projector_status>(sup, shadow_atom::value, tallies("t", 2),
                                      shadow_wait::start);
  BOOST_REQUIRE(!shadow);
  BOOST_TEST(code_of(shadow.error()) == errc::precondition_failed);
  shadow = ask<projector_status>(sup, shadow_atom::value, tally("t#0", {"A"}),
                                 shadow_wait::start);
  BOOST_REQUIRE(!shadow);
  BOOST_TEST(code_of(shadow.error()) == errc::precondition_failed);
}

BOOST_AUTO_TEST_CASE(rollback_and_discard_of_a_partitioned_model_have_nothing_to_do) {
  // A partitioned model never has a blue/green rebuild, so it has nothing
  // to roll back or discard: it is a model all the same, not an unknown one
  // (protocol error 22, not 20).
  start({tallies("t", 2)});
  publish(events(0, 10, {"A", "B"}, keys));
  auto rolled = ask<projector_status>(sup, rollback_atom::value, std::string{"t"});
  BOOST_REQUIRE(!rolled);
  BOOST_TEST(code_of(rolled.error()) == errc::precondition_failed,
             context_of(rolled.error()));
  BOOST_TEST(context_of(rolled.error()).find("'t'") != std::string::npos);
  auto discarded = ask<projector_status>(sup, discard_atom::value, std::string{"t"});
  BOOST_REQUIRE(!discarded);
  BOOST_TEST(code_of(discarded.error()) == errc::precondition_failed,
             context_of(discarded.error()));
  // An unknown model is still one.
  rolled = ask<projector_status>(sup, rollback_atom::value, std::string{"nope"});
  BOOST_REQUIRE(!rolled);
  BOOST_TEST(code_of(rolled.error()) == errc::no_such_model);
  for (auto& s : status())
    BOOST_TEST(s.state == model_state::running);
}

BOOST_AUTO_TEST_CASE(await_applied_on_the_model_waits_for_every_partition) {
  start({tallies("t", 3)});
  publish(events(0, 20, {"A", "B"}, keys));
  auto done = ask<std::vector<model_checkpoint>>(
    sup, await_atom::value, std::uint64_t{20}, std::string{"t"},
    caf::timespan{std::chrono::seconds{5}});
  BOOST_REQUIRE(done);
  BOOST_TEST(done->size() == 3u);
  for (auto& c : *done) {
    BOOST_TEST(model_of(c.model) == "t");
    BOOST_TEST(c.checkpoint >= 20u);
  }
}

BOOST_AUTO_TEST_CASE(a_routing_supervisor_serves_its_partitions_locally) {
  // On a bus's node, a model it does not run is looked up on other nodes:
  // a partitioned one it runs must not be.
  sup = spawn_routing_supervisor(sys, bus, {tallies("t", 2)}, policy, replaying(8),
                                 remote_routing{});
  run();
  publish(events(0, 30, {"A", "B"}, keys));
  check_queries("t");
  auto paused = ask<projector_status>(sup, pause_atom::value, std::string{"t"});
  BOOST_REQUIRE(paused);
  BOOST_TEST(paused->state == model_state::paused);
}

BOOST_AUTO_TEST_CASE(a_model_that_is_not_key_local_runs_whole) {
  // Partitioned, its events (no key) would all go to one partition and its
  // queries (by type) to others: wrong answers. It runs whole instead.
  model_spec spec{"types", [] { return std::make_unique<type_counter>(); }};
  spec.partitions = 3;
  start({spec});
  publish(events(0, 30, {"A", "B"}, keys));
  auto st = status();
  BOOST_REQUIRE(st.size() == 1u);
  BOOST_TEST(st[0].model == "types");
  for (auto type : {"A", "B"}) {
    auto q = ask<query_result>(sup, query_atom::value, std::string{"types"},
                               std::string{type});
    BOOST_REQUIRE(q);
    BOOST_TEST(q->value == boost::json::value(15));
  }
}

BOOST_AUTO_TEST_SUITE_END()
