// The bus's directory keeps the pauses of shared models' partitions in its
// store (bus_options::directory_store): a bus started again on that store
// sends them with its first assignments, before any node that ran them is
// back. Without a store, a new bus knows none. A pause or resume its store
// cannot keep is not acknowledged to the operator who asked for it.

#include "bus/actors/bus_actor.hpp"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bus/actors/supervisor.hpp"
#include "bus/errc.hpp"
#include "bus/lifecycle_store.hpp"
#include "support/deterministic_fixture.hpp"
#include "support/sqlite_scratch.hpp"
#include "support/test_models.hpp"

using namespace bus;
using namespace bus::actors;
using namespace bus::test;

namespace {

// What the bus told a node of one shared model.
struct told_assignment {
  std::vector<std::uint32_t> mine;
  std::vector<partition_pause> pauses;
};

// A node's supervisor, reduced to what the bus's directory sees of it: it
// keeps the assignments it gets, and tells the bus the pause of a partition
// it runs when the test asks (from itself, as the bus requires).
caf::behavior directory_node(caf::event_based_actor* self,
                             std::shared_ptr<std::vector<told_assignment>> told,
                             bus_actor bus) {
  return {
    [told](assign_atom, std::string&, std::vector<std::uint32_t>& mine,
           std::vector<partition_pause>& pauses) {
      told->push_back({std::move(mine), std::move(pauses)});
    },
    [self, bus](intent_atom, std::string& name, partition_pause& pause) {
      self->send(bus, intent_atom::value, std::move(name), std::move(pause));
    },
  };
}

struct directory_fixture : deterministic_fixture {
  sqlite_scratch scratch{"bus-directory-test-", "bus.lifecycle"};
  std::shared_ptr<memory_log> log = std::make_shared<memory_log>();
  bus_actor bus;
  std::map<std::string, caf::actor> nodes;
  std::map<std::string, std::shared_ptr<std::vector<told_assignment>>> told;

  ~directory_fixture() { stop_bus(); }

  // A bus over the same log; with `keeping`, its directory keeps the pauses
  // in the scratch file, as bus-node --store does.
  void start_bus(bool keeping) {
    bus_options options;
    if (keeping) {
      auto opened = lifecycle_store::open(scratch.path);
      BOOST_REQUIRE(opened);
      options.directory_store = std::move(*opened);
    }
    bus = spawn_bus(sys, log, options);
    run();
  }

  // Stops the bus and every node, as a bus node's restart does.
  void stop_bus() {
    for (auto& [name, node] : nodes)
      self->send_exit(node, caf::exit_reason::kill);
    nodes.clear();
    if (bus)
      self->send_exit(bus, caf::exit_reason::user_shutdown);
    bus = nullptr;
    run();
  }

  // Node `name` attaches sharing "t" as `partitions` partitions.
  void attach(const std::string& name, std::uint32_t partitions = 6) {
    told[name] = std::make_shared<std::vector<told_assignment>>();
    nodes[name] = sys.spawn(directory_node, told[name], bus);
    run();
    auto head = ask<std::uint64_t>(bus, attach_atom::value, name, nodes[name],
                                   std::vector<std::string>{},
                                   std::vector<shared_model>{{"t", partitions}});
    BOOST_REQUIRE(head);
  }

  // Node `name` tells the bus the pause of partition `index` of "t".
  void tell(const std::string& name, std::uint32_t index, partition_intent intent,
            caf::optional<std::uint64_t> frozen_at) {
    partition_pause pause;
    pause.intent = intent;
    pause.frozen_at = frozen_at;
    self->send(nodes.at(name), intent_atom::value, "t#" + std::to_string(index),
               std::move(pause));
    run();
  }

  // The pauses the bus sent node `name` with its last assignment.
  std::vector<partition_pause> last_pauses(const std::string& name) {
    BOOST_REQUIRE(!told.at(name)->empty());
    return told.at(name)->back().pauses;
  }
};

// A projector node sharing "t" as 6 partitions (the bus assigns them), and
// the bus's node, where an operator's requests arrive: real supervisors.
struct sharing_fixture : directory_fixture {
  supervisor_actor front;
  supervisor_actor node;

  ~sharing_fixture() {
    for (auto* sup : {&front, &node})
      if (*sup)
        self->send_exit(*sup, caf::exit_reason::user_shutdown);
    run();
  }

  void start_sharing() {
    start_bus(true);
    front = spawn_routing_supervisor(sys, bus, std::vector<model_spec>{},
                                     supervision_policy{}, projector_options{},
                                     remote_routing{});
    auto spec = tally("t", {"A"});
    spec.partitions = 6;
    projector_options options;
    options.placement = partition_placement::by_bus;
    node = spawn_supervisor(sys, bus, std::vector<model_spec>{spec},
                            supervision_policy{}, options);
    run();
    BOOST_REQUIRE(ask<std::uint64_t>(
      bus, attach_atom::value, std::string{"node-a"}, caf::actor_cast<caf::actor>(node),
      std::vector<std::string>{}, std::vector<shared_model>{{"t", 6}}));
  }

  /// The bus's store refuses every write of a partition's intent from now
  /// on, as a full disk would.
  void fill_the_disk() {
    scratch.sql("CREATE TRIGGER full_disk BEFORE INSERT ON partition_intents "
                "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END");
  }

  void empty_the_disk() { scratch.sql("DROP TRIGGER full_disk"); }

  /// The intents kept in the bus's store, "pause" or "run" per partition.
  std::string kept_intents() {
    return scratch.select("SELECT group_concat(intent, ',') FROM (SELECT intent FROM "
                          "partition_intents ORDER BY partition_index)");
  }

  /// Checks that `answer` is the error of a pause or resume of "t" that the
  /// bus's store did not keep (`done`: "paused" or "resumed").
  void check_not_kept(const caf::expected<projector_status>& answer,
                      const std::string& done) {
    BOOST_REQUIRE_MESSAGE(!answer, "a " << done
                                        << " model the bus did not keep was "
                                           "acknowledged");
    BOOST_TEST(code_of(answer.error()) == errc::storage_failed);
    auto text = context_of(answer.error());
    BOOST_TEST(text.find(done + " on its node but not kept by the bus")
                 != std::string::npos,
               text);
    BOOST_TEST(text.find("database or disk is full") != std::string::npos, text);
  }
};

const partition_pause* pause_of_partition(const std::vector<partition_pause>& xs,
                                          std::uint32_t index) {
  for (auto& x : xs)
    if (x.partition == index)
      return &x;
  return nullptr;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(bus_directory_pauses, directory_fixture)

BOOST_AUTO_TEST_CASE(a_bus_restarted_on_its_store_sends_the_pauses_it_kept) {
  start_bus(true);
  attach("node-a"); // runs every partition
  BOOST_REQUIRE(told.at("node-a")->back().mine.size() == 6u);
  tell("node-a", 3, partition_intent::pause, std::uint64_t{412});
  tell("node-a", 1, partition_intent::pause, std::uint64_t{400});
  tell("node-a", 1, partition_intent::run, caf::none); // resumed
  stop_bus();
  // node-a stays away: node-b, which never ran them, gets them as kept.
  start_bus(true);
  attach("node-b");
  BOOST_TEST(told.at("node-b")->back().mine.size() == 6u);
  auto pauses = last_pauses("node-b");
  BOOST_REQUIRE(pauses.size() == 2u);
  auto* three = pause_of_partition(pauses, 3);
  BOOST_REQUIRE(three != nullptr);
  BOOST_TEST((three->intent == partition_intent::pause));
  BOOST_TEST((three->frozen_at == caf::optional<std::uint64_t>{412}));
  auto* one = pause_of_partition(pauses, 1);
  BOOST_REQUIRE(one != nullptr);
  BOOST_TEST((one->intent == partition_intent::run));
  BOOST_TEST(!one->frozen_at);
}

BOOST_AUTO_TEST_CASE(without_a_store_a_restarted_bus_knows_no_pauses) {
  start_bus(false);
  attach("node-a");
  tell("node-a", 3, partition_intent::pause, std::uint64_t{412});
  stop_bus();
  start_bus(false);
  attach("node-b");
  BOOST_TEST(last_pauses("node-b").empty());
  BOOST_TEST(scratch.select("SELECT count(*) FROM partition_intents") == "<none>");
}

BOOST_AUTO_TEST_CASE(pauses_kept_for_another_partition_count_are_forgotten) {
  start_bus(true);
  attach("node-a");
  tell("node-a", 3, partition_intent::pause, std::uint64_t{412});
  stop_bus();
  // The model runs as 4 partitions now: its partition 3 holds other keys.
  start_bus(true);
  attach("node-b", 4);
  BOOST_TEST(last_pauses("node-b").empty());
  BOOST_TEST(scratch.select("SELECT count(*) FROM partition_intents") == "0");
}

// The bus keeps what each node tells it of the partitions it runs, before
// the node answers the operator: a pause or resume the bus's store refused
// is an error to the operator, not an acknowledgement, since a restarted
// bus (or a standby taking the lead) would send the partitions' old intent
// to whichever node runs them next.
BOOST_FIXTURE_TEST_CASE(a_pause_the_bus_cannot_keep_is_an_error_not_an_acknowledgement,
                        sharing_fixture) {
  start_sharing();
  BOOST_TEST(kept_intents() == "run,run,run,run,run,run");
  fill_the_disk();
  check_not_kept(ask<projector_status>(front, pause_atom::value, std::string{"t"}),
                 "paused");
  BOOST_TEST(kept_intents() == "run,run,run,run,run,run");
  empty_the_disk();
  BOOST_REQUIRE(ask<projector_status>(front, pause_atom::value, std::string{"t"}));
  BOOST_TEST(kept_intents() == "pause,pause,pause,pause,pause,pause");
  fill_the_disk();
  check_not_kept(ask<projector_status>(front, resume_atom::value, std::string{"t"}),
                 "resumed");
  BOOST_TEST(kept_intents() == "pause,pause,pause,pause,pause,pause");
  empty_the_disk();
  BOOST_REQUIRE(ask<projector_status>(front, resume_atom::value, std::string{"t"}));
  BOOST_TEST(kept_intents() == "run,run,run,run,run,run");
}

BOOST_AUTO_TEST_SUITE_END()
