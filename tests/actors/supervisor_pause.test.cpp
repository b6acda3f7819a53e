// A pause is an operator's decision: it holds across restarts of the
// model's projector (a crash, an operator's restart) and, with a lifecycle
// file, across restarts of the node, until a resume. One the lifecycle
// file cannot keep is not acknowledged.

#include "bus/actors/supervisor.hpp"

#include "bus/errc.hpp"
#include "bus/lifecycle_store.hpp"
#include "support/fault_vfs.hpp"
#include "support/sqlite_scratch.hpp"
#include "support/sum_model.hpp"
#include "support/supervisor_fixture.hpp"

using namespace std::chrono_literals;
using namespace bus;
using namespace bus::actors;
using namespace bus::test;

namespace {

struct pause_fixture : supervisor_fixture {
  sqlite_scratch scratch{"bus-pause-test-", "node.lifecycle"};
  sqlite_scratch snapshots{"bus-pause-test-", "node.snapshots"};
  /// Snapshots of the models, as with --store (but none taken on the way:
  /// only those a pause takes).
  bool with_snapshots = false;

  projector_options node_options() {
    auto options = replaying(8);
    if (with_snapshots) {
      options.snapshot_path = snapshots.path;
      options.snapshot_every = 1000;
    }
    return options;
  }

  /// "m": sums per key that restores from its snapshots (a tally does not).
  static model_spec sums() {
    model_spec result{"m", [] {
                        return std::make_unique<payload_sums>(
                          "m", std::vector<std::string>{"A"});
                      }};
    result.recovery.attempts = 1;
    return result;
  }

  /// Starts a supervisor over `specs`, with snapshots if wanted.
  void start_models(std::vector<model_spec> specs) {
    sup = spawn_supervisor(sys, bus, std::move(specs), policy, node_options());
    run();
  }

  /// Starts a supervisor over "m" and "other" that keeps pauses in the
  /// scratch file, as a node with --store does.
  void start_keeping_pauses() {
    auto options = node_options();
    options.lifecycle_path = scratch.path;
    sup = spawn_supervisor(sys, bus,
                           std::vector<model_spec>{sums(), tally("other", {"A"})},
                           policy, options);
    run();
  }

  /// Stops the supervisor and its projectors, as a node's shutdown does.
  void stop_supervisor() {
    self->send_exit(sup, caf::exit_reason::user_shutdown);
    run();
    sup = nullptr;
  }

  /// What a user's query of key0 in "m" answers.
  caf::expected<query_result> query_m() {
    return ask<query_result>(sup, query_atom::value, std::string{"m"},
                             std::string{"key0"});
  }

  /// Publishes three events and pauses "m"; returns what key0 answered.
  boost::json::value pause_after_three() {
    publish(events(0, 3, {"A"}));
    auto answer = query_m();
    BOOST_REQUIRE(answer);
    BOOST_REQUIRE(ask<projector_status>(sup, pause_atom::value, std::string{"m"}));
    return answer->value;
  }

  /// Asserts that a query of "m" is refused as unavailable (error 11).
  void refused() {
    auto answer = query_m();
    BOOST_REQUIRE(!answer);
    BOOST_TEST(code_of(answer.error()) == errc::model_unavailable);
  }

  /// Asserts that key0 of "m" answers `value`.
  void answers(const boost::json::value& value) {
    auto answer = query_m();
    BOOST_REQUIRE(answer);
    BOOST_TEST(answer->value == value);
  }

  model_state state_of_model(const std::string& name) {
    for (auto& s : status())
      if (s.model == name)
        return s.state;
    BOOST_FAIL("no model " << name);
    return model_state::failed;
  }
};

// Made first and gone last: the lifecycle file of the test opens through
// it (support/fault_vfs.hpp), and closes before it goes.
struct pause_faults_base {
  fault_vfs faults;
};

struct pause_faults_fixture : pause_faults_base, pause_fixture {
  /// Fails every write of the lifecycle file's WAL as a full disk would.
  void fill_the_disk() { faults.arm(fault_kind::disk_full, "node.lifecycle-wal"); }

  /// Checks that `answer` is the error of a pause or resume ("paused",
  /// "resumed") of "m" that the full disk kept out of the lifecycle file.
  void check_not_kept(const caf::expected<projector_status>& answer,
                      const std::string& done) {
    BOOST_REQUIRE_GT(faults.failed(), 0u);
    BOOST_REQUIRE_MESSAGE(!answer, "a " << done
                                        << " model the lifecycle file did "
                                           "not keep was acknowledged");
    BOOST_TEST(code_of(answer.error()) == errc::storage_failed);
    auto text = context_of(answer.error());
    BOOST_TEST(text.find("read model 'm': " + done + " on this node but not kept")
                 != std::string::npos,
               text);
    BOOST_TEST(text.find("database or disk is full") != std::string::npos, text);
  }

  /// Restarts the node (its supervisor) on the lifecycle file, the disk
  /// well again.
  void restart_node() {
    faults.disarm();
    stop_supervisor();
    start_keeping_pauses();
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(supervisor_pause, pause_fixture)

BOOST_AUTO_TEST_CASE(an_operator_restart_keeps_the_model_paused) {
  start({tally("m", {"A"})});
  publish(events(0, 3, {"A"}));
  BOOST_REQUIRE(ask<projector_status>(sup, pause_atom::value, std::string{"m"}));
  BOOST_REQUIRE(ask<projector_status>(sup, restart_atom::value, std::string{"m"}));
  run();
  auto st = status();
  BOOST_TEST(st[0].state == model_state::paused);
  // Paused: what is published now waits in the log for the resume.
  publish(events(3, 4, {"A"}));
  BOOST_TEST(status()[0].checkpoint < 7u);
  auto resumed = ask<projector_status>(sup, resume_atom::value, std::string{"m"});
  BOOST_REQUIRE(resumed);
  BOOST_TEST(resumed->state == model_state::running);
  BOOST_TEST(resumed->checkpoint == 7u);
}

BOOST_AUTO_TEST_CASE(a_crashed_paused_projector_comes_back_paused) {
  start({tally("m", {"A"})});
  BOOST_REQUIRE(ask<projector_status>(sup, pause_atom::value, std::string{"m"}));
  self->send_exit(slot(0).handle, caf::make_error(caf::sec::runtime_error));
  run();
  sched.advance_time(policy.max_backoff);
  run();
  BOOST_TEST(status()[0].restarts == 1u);
  BOOST_TEST(status()[0].state == model_state::paused);
}

BOOST_AUTO_TEST_CASE(a_resume_ends_the_pause_for_later_restarts) {
  start({tally("m", {"A"})});
  BOOST_REQUIRE(ask<projector_status>(sup, pause_atom::value, std::string{"m"}));
  BOOST_REQUIRE(ask<projector_status>(sup, resume_atom::value, std::string{"m"}));
  BOOST_REQUIRE(ask<projector_status>(sup, restart_atom::value, std::string{"m"}));
  run();
  BOOST_TEST(status()[0].state == model_state::running);
}

BOOST_AUTO_TEST_CASE(a_pause_survives_a_restart_of_the_node) {
  start_keeping_pauses();
  publish(events(0, 3, {"A"}));
  BOOST_REQUIRE(ask<projector_status>(sup, pause_atom::value, std::string{"m"}));
  stop_supervisor();
  publish(events(3, 2, {"A"}));
  start_keeping_pauses();
  BOOST_TEST(state_of_model("m") == model_state::paused);
  BOOST_TEST(state_of_model("other") == model_state::running);
  // The resume is kept too: the next start runs the model.
  BOOST_REQUIRE(ask<projector_status>(sup, resume_atom::value, std::string{"m"}));
  BOOST_TEST(state_of_model("m") == model_state::running);
  stop_supervisor();
  start_keeping_pauses();
  BOOST_TEST(state_of_model("m") == model_state::running);
  auto st = status();
  BOOST_TEST(st[0].checkpoint == 5u);
}

BOOST_AUTO_TEST_CASE(a_partitioned_model_paused_whole_stays_so_as_any_partitions) {
  // The pause was kept per partition only: restarted as 8 partitions, 4 of
  // them ran; as one, none was paused; and back as 4, after a resume as
  // one, the old partitions' rows paused it again.
  auto start_as = [&](std::uint32_t n) {
    auto spec = tally("p", {"A"});
    spec.partitions = n;
    auto options = node_options();
    options.lifecycle_path = scratch.path;
    sup = spawn_supervisor(sys, bus, std::vector<model_spec>{spec}, policy, options);
    run();
  };
  auto paused_of = [&] {
    std::pair<std::size_t, std::size_t> result; // paused, all
    for (auto& s : status()) {
      ++result.second;
      result.first += s.state == model_state::paused ? 1 : 0;
    }
    return result;
  };
  start_as(4);
  publish(events(0, 8, {"A"}));
  BOOST_REQUIRE(ask<projector_status>(sup, pause_atom::value, std::string{"p"}));
  stop_supervisor();
  start_as(8);
  BOOST_TEST((paused_of() == std::pair<std::size_t, std::size_t>{8, 8}));
  stop_supervisor();
  start_as(1);
  BOOST_TEST((paused_of() == std::pair<std::size_t, std::size_t>{1, 1}));
  BOOST_REQUIRE(ask<projector_status>(sup, resume_atom::value, std::string{"p"}));
  stop_supervisor();
  start_as(4);
  BOOST_TEST((paused_of() == std::pair<std::size_t, std::size_t>{0, 4}));
  // One partition resumed on its own ends the whole model's pause, not the
  // other partitions'.
  BOOST_REQUIRE(ask<projector_status>(sup, pause_atom::value, std::string{"p"}));
  BOOST_REQUIRE(ask<projector_status>(sup, resume_atom::value, std::string{"p#1"}));
  stop_supervisor();
  start_as(4);
  BOOST_TEST((paused_of() == std::pair<std::size_t, std::size_t>{3, 4}));
}

// A paused model answers from its frozen state, and from no other: a new
// projector, or a reset one, that is not at that state refuses (error 11)
// rather than answer from a past or empty state.

BOOST_AUTO_TEST_CASE(a_paused_model_restarted_without_its_state_refuses_queries) {
  start({tally("m", {"A"})});
  auto before = pause_after_three();
  BOOST_REQUIRE(ask<projector_status>(sup, restart_atom::value, std::string{"m"}));
  run();
  refused();
  BOOST_REQUIRE(ask<projector_status>(sup, resume_atom::value, std::string{"m"}));
  answers(before);
}

BOOST_AUTO_TEST_CASE(a_paused_model_rebuilt_refuses_queries_until_resumed) {
  start({tally("m", {"A"})});
  auto before = pause_after_three();
  BOOST_REQUIRE(ask<projector_status>(sup, rebuild_atom::value, std::string{"m"}));
  run();
  refused();
  BOOST_REQUIRE(ask<projector_status>(sup, resume_atom::value, std::string{"m"}));
  answers(before);
}

BOOST_AUTO_TEST_CASE(a_paused_model_crashed_answers_from_the_state_its_pause_kept) {
  with_snapshots = true;
  start_models({sums()});
  auto before = pause_after_three();
  publish(events(3, 3, {"A"})); // logged, not applied: paused
  // Killed: no last snapshot on its way out, as in a crash.
  self->send_exit(slot(0).handle, caf::exit_reason::kill);
  run();
  sched.advance_time(policy.max_backoff);
  run();
  BOOST_TEST(status()[0].restarts == 1u);
  answers(before);
  BOOST_TEST(status()[0].checkpoint == 3u);
}

BOOST_AUTO_TEST_CASE(
  a_paused_model_answers_from_its_frozen_state_after_the_node_crashed) {
  with_snapshots = true;
  start_keeping_pauses();
  auto before = pause_after_three();
  // The node dies: its projector takes no last snapshot.
  self->send_exit(slot(0).handle, caf::exit_reason::kill);
  stop_supervisor();
  publish(events(3, 2, {"A"}));
  start_keeping_pauses();
  BOOST_TEST(state_of_model("m") == model_state::paused);
  answers(before);
}

BOOST_AUTO_TEST_CASE(the_store_keeps_where_a_paused_model_froze) {
  {
    auto store = lifecycle_store::open(scratch.path);
    BOOST_REQUIRE(store);
    BOOST_REQUIRE(!(*store)->set_paused("a", true, 42u));
    BOOST_REQUIRE(!(*store)->set_paused("b", true));
  }
  auto store = lifecycle_store::open(scratch.path);
  BOOST_REQUIRE(store);
  auto pauses = (*store)->pauses();
  BOOST_REQUIRE(pauses);
  BOOST_REQUIRE(pauses->size() == 2u);
  BOOST_TEST((*pauses)[0].name == "a");
  BOOST_TEST((*pauses)[0].frozen_at.value_or(0) == 42u);
  BOOST_TEST((*pauses)[1].name == "b");
  BOOST_TEST(!(*pauses)[1].frozen_at);
}

BOOST_AUTO_TEST_CASE(a_store_made_before_frozen_points_opens_with_its_pauses) {
  scratch.sql("CREATE TABLE paused_models (model TEXT PRIMARY KEY, "
              "paused_at INTEGER NOT NULL);"
              "INSERT INTO paused_models VALUES ('old', 1)");
  auto store = lifecycle_store::open(scratch.path);
  BOOST_REQUIRE(store);
  auto pauses = (*store)->pauses();
  BOOST_REQUIRE(pauses);
  BOOST_REQUIRE(pauses->size() == 1u);
  BOOST_TEST((*pauses)[0].name == "old");
  BOOST_TEST(!(*pauses)[0].frozen_at);
  BOOST_REQUIRE(!(*store)->set_paused("old", true, 7u));
  BOOST_TEST((*store)->pauses()->at(0).frozen_at.value_or(0) == 7u);
}

BOOST_AUTO_TEST_CASE(the_store_lists_what_is_paused) {
  auto store = lifecycle_store::open(scratch.path);
  BOOST_REQUIRE(store);
  BOOST_REQUIRE(!(*store)->set_paused("b", true));
  BOOST_REQUIRE(!(*store)->set_paused("a", true));
  BOOST_REQUIRE(!(*store)->set_paused("b", false));
  auto paused = (*store)->paused();
  BOOST_REQUIRE(paused);
  BOOST_TEST(*paused == std::vector<std::string>{"a"});
}

// A pause the lifecycle file cannot keep (a full disk) holds on this node
// but would not survive its restart: the operator is told so, never that
// it is paused. The same for a resume, which a restart would undo.
BOOST_FIXTURE_TEST_CASE(
  a_pause_the_store_cannot_keep_is_an_error_not_an_acknowledgement,
  pause_faults_fixture) {
  start_keeping_pauses();
  publish(events(0, 3, {"A"}));
  fill_the_disk();
  check_not_kept(ask<projector_status>(sup, pause_atom::value, std::string{"m"}),
                 "paused");
  BOOST_TEST(state_of_model("m") == model_state::paused); // as the error says
  restart_node();
  BOOST_TEST(state_of_model("m") == model_state::running);
  BOOST_REQUIRE(ask<projector_status>(sup, pause_atom::value, std::string{"m"}));
  fill_the_disk();
  check_not_kept(ask<projector_status>(sup, resume_atom::value, std::string{"m"}),
                 "resumed");
  BOOST_TEST(state_of_model("m") == model_state::running);
  restart_node();
  BOOST_TEST(state_of_model("m") == model_state::paused);
  // With the disk well, both are kept and acknowledged.
  BOOST_REQUIRE(ask<projector_status>(sup, resume_atom::value, std::string{"m"}));
  restart_node();
  BOOST_TEST(state_of_model("m") == model_state::running);
}

BOOST_AUTO_TEST_CASE(an_unusable_store_is_an_error_not_a_crash) {
  auto store = lifecycle_store::open("/nonexistent-dir/x/node.lifecycle");
  BOOST_TEST(!store);
}

BOOST_AUTO_TEST_SUITE_END()
