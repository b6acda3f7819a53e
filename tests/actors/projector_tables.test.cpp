// Projectors of read models persisted to SQLite tables (model_storage::sqlite):
// restarts on the same models database, exactly-once across them, rebuilds
// and failed commits.

#include "bus/actors/projector.hpp"

#include <filesystem>
#include <random>

#include <sqlite3.h>

#include "bus/document_model.hpp"
#include "bus/errc.hpp"
#include "bus/forwarding_model.hpp"
#include "bus/model_table.hpp"
#include "bus/restore_progress.hpp"
#include "support/bus_fixture.hpp"

using namespace bus;
using namespace bus::actors;
using namespace bus::test;

namespace {

// Documents keyed by payload.k: "A" merges, "B" deletes, "C" is not handled.
document_model_config table_docs_config(bool with_deletes = true) {
  document_model_config cfg;
  cfg.name = "docs";
  cfg.key = "k";
  cfg.merge_on = {"A"};
  if (with_deletes)
    cfg.delete_on = {"B"};
  return cfg;
}

// The docs model, restoring only whole states (restore_row left to the
// default), as a user's model written before row by row restores.
class whole_docs final : public forwarding_model {
public:
  whole_docs()
    : forwarding_model(std::make_unique<document_model>(table_docs_config())) {}
  bool restore_row(std::string_view key, const boost::json::value& value) override {
    return read_model::restore_row(key, value);
  }
};

model_spec table_docs_spec(bool with_deletes = true) {
  auto cfg = table_docs_config(with_deletes);
  return model_spec{cfg.name, [cfg] { return std::make_unique<document_model>(cfg); },
                    model_storage::sqlite};
}

struct tables_fixture : bus_fixture {
  std::filesystem::path dir;
  std::string models_path;

  tables_fixture() {
    std::random_device rd;
    dir = std::filesystem::temp_directory_path()
          / ("bus-projector-tables-" + std::to_string(rd()));
    std::filesystem::create_directories(dir);
    models_path = (dir / "bus.db.models").string();
  }

  ~tables_fixture() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  projector_options options(std::uint32_t replay_batch = 16) {
    auto result = replaying(replay_batch);
    result.models_path = models_path;
    return result;
  }

  projector_actor start(model_spec spec = table_docs_spec()) {
    auto p = bus::actors::spawn_projector(sys, bus, std::move(spec), options());
    run();
    return p;
  }

  /// The docs model folded from the whole log by a memory model.
  boost::json::value fold(bool with_deletes = true) {
    document_model m{table_docs_config(with_deletes)};
    for (auto& e : whole_log())
      m.apply(e);
    return m.snapshot();
  }

  /// What the models database holds for "docs", read with a connection of
  /// its own.
  table_contents stored(bool with_deletes = true) {
    auto table = model_table::open(
      models_path, "docs",
      document_model{table_docs_config(with_deletes)}.definition());
    BOOST_REQUIRE(table);
    auto loaded = (*table)->load();
    BOOST_REQUIRE(loaded);
    return std::move(*loaded);
  }

  void sql(const std::string& text) {
    sqlite3* db = nullptr;
    BOOST_REQUIRE(sqlite3_open(models_path.c_str(), &db) == SQLITE_OK);
    auto rc = sqlite3_exec(db, text.c_str(), nullptr, nullptr, nullptr);
    sqlite3_close(db);
    BOOST_REQUIRE(rc == SQLITE_OK);
  }

  /// Counts the table's commits from here on: each updates its checkpoint.
  void count_commits() {
    sql("CREATE TABLE commits (n INTEGER); "
        "CREATE TRIGGER counted AFTER UPDATE ON checkpoints "
        "BEGIN INSERT INTO commits VALUES (1); END");
  }

  std::int64_t commits() {
    sqlite3* db = nullptr;
    BOOST_REQUIRE(sqlite3_open(models_path.c_str(), &db) == SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    std::int64_t result = -1;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM commits", -1, &stmt, nullptr)
          == SQLITE_OK
        && sqlite3_step(stmt) == SQLITE_ROW)
      result = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return result;
  }

  using ack_slot = std::shared_ptr<std::optional<caf::expected<delivery_ack>>>;

  /// Pushes seqs [from, from + n) of the log to `p` from a helper actor that
  /// keeps the answer. Runs only the helper: the push waits in p's mailbox.
  ack_slot push(const projector_actor& p, std::uint64_t from, std::size_t n) {
    auto slot = std::make_shared<std::optional<caf::expected<delivery_ack>>>();
    auto batch = log->read(from, n);
    auto helper = sys.spawn([=](caf::event_based_actor* a) {
      a->request(caf::actor_cast<caf::actor>(p), caf::infinite, deliver_atom::value,
                 batch, from)
        .then([=](delivery_ack& x) { *slot = std::move(x); },
              [=](caf::error& err) { *slot = std::move(err); });
    });
    BOOST_REQUIRE(sched.prioritize(helper));
    sched.run_once();
    return slot;
  }

  static std::size_t queued(const projector_actor& p) {
    auto* a = caf::actor_cast<caf::abstract_actor*>(p);
    return dynamic_cast<caf::scheduled_actor&>(*a).mailbox().size();
  }
};

// Events of types A, B and C over 7 keys.
std::vector<event> abc(std::size_t first, std::size_t n) {
  return bus_fixture::events(first, n, {"A", "A", "B", "C"}, 7);
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(projector_tables, tables_fixture)

BOOST_AUTO_TEST_CASE(every_batch_commits_rows_and_checkpoint_together) {
  auto p = start();
  publish(abc(0, 20));
  publish(abc(20, 20));
  auto table = stored();
  BOOST_TEST(table.checkpoint == 40u);
  BOOST_TEST(boost::json::value(table.rows) == fold());
  BOOST_TEST(snapshot_of(p) == fold());
}

BOOST_AUTO_TEST_CASE(pushes_that_queued_up_are_committed_together_before_their_acks) {
  auto p = start();
  count_commits();
  log->append(abc(0, 30)); // behind the bus's back: only the pushes below
  auto first = push(p, 1, 10);
  auto second = push(p, 11, 10);
  auto third = push(p, 21, 10);
  BOOST_REQUIRE(queued(p) == 3u);
  BOOST_REQUIRE(sched.prioritize(p));
  sched.run_once(); // p applies the first push
  // Applied, but neither committed nor acknowledged yet: the commit waits
  // behind the other two pushes.
  BOOST_TEST(queued(p) == 3u);
  BOOST_TEST(!first->has_value());
  BOOST_TEST(commits() == 0);
  BOOST_TEST(stored().checkpoint == 0u);
  run();
  // One transaction for the three pushes, then their acks, in order.
  BOOST_TEST(commits() == 1);
  for (auto* slot : {&first, &second, &third}) {
    BOOST_REQUIRE((*slot)->has_value());
    BOOST_REQUIRE(***slot);
  }
  BOOST_TEST((**first)->checkpoint == 10u);
  BOOST_TEST((**second)->checkpoint == 20u);
  BOOST_TEST((**third)->checkpoint == 30u);
  BOOST_TEST((**third)->applied.size() == 8u); // 21..30 but the C events
  auto table = stored();
  BOOST_TEST(table.checkpoint == 30u);
  BOOST_TEST(boost::json::value(table.rows) == fold());
  // A push on its own is committed on its own.
  log->append(abc(30, 5));
  auto fourth = push(p, 31, 5);
  run();
  BOOST_TEST(commits() == 2);
  BOOST_REQUIRE(fourth->has_value());
  BOOST_TEST((**fourth)->checkpoint == 35u);
  BOOST_TEST(stored().checkpoint == 35u);
}

BOOST_AUTO_TEST_CASE(failing_projector_commits_what_it_applied_before_and_acks_it) {
  // Documents that require "n", and a model that stops on a poison event.
  auto docs = table_docs_config();
  docs.require = {"n"};
  model_spec spec{docs.name, [docs] { return std::make_unique<document_model>(docs); },
                  model_storage::sqlite};
  spec.recovery.attempts = 1;
  spec.recovery.then = on_poison::stop;
  auto p = start(spec);
  count_commits();
  log->append(abc(0, 10));
  log->append({make_event("poison", "A", {{"k", "key1"}})});
  auto first = push(p, 1, 10);
  auto second = push(p, 11, 1);
  BOOST_REQUIRE(sched.prioritize(p));
  sched.run_once(); // p applies the first push; its commit is due
  BOOST_REQUIRE(!first->has_value());
  self->monitor(p);
  run(); // the poison stops p before the commit it sent itself
  caf::error reason;
  self->receive([&](caf::down_msg& dm) { reason = dm.reason; });
  BOOST_TEST(code_of(reason) == errc::apply_failed);
  // What it applied before was committed on the way out and acknowledged:
  // its replacement starts from there.
  BOOST_TEST(commits() == 1);
  auto opened = model_table::open(models_path, "docs",
                                  document_model{docs}.definition());
  BOOST_REQUIRE(opened);
  auto table = (*opened)->load();
  BOOST_REQUIRE(table);
  BOOST_TEST(table->checkpoint == 10u);
  document_model before_poison{docs};
  for (auto& e : log->read(1, 10))
    before_poison.apply(e);
  BOOST_TEST(boost::json::value(table->rows) == before_poison.snapshot());
  BOOST_REQUIRE(first->has_value());
  BOOST_REQUIRE(**first);
  BOOST_TEST((**first)->checkpoint == 10u);
  BOOST_REQUIRE(second->has_value());
  BOOST_TEST(code_of((**second).error()) == errc::apply_failed);
}

BOOST_AUTO_TEST_CASE(restarted_projector_loads_its_table_and_pulls_only_the_tail) {
  auto first = start();
  for (std::size_t i = 0; i < 100; i += 10)
    publish(abc(i, 10));
  BOOST_TEST(status(first).checkpoint == 100u);
  stop(first);
  publish(abc(100, 12)); // while no projector runs
  auto second = start();
  auto st = status(second);
  BOOST_TEST(st.state == model_state::running);
  BOOST_TEST(st.checkpoint == 112u);
  // Only the 12 events after the committed checkpoint came from the log
  // (9 of them of a handled type), none of the 100 before.
  BOOST_TEST(st.replayed == 9u);
  BOOST_TEST(st.applied == 9u);
  BOOST_TEST(snapshot_of(second) == fold());
  auto folded = fold().as_object();
  BOOST_REQUIRE(!folded.empty());
  auto key = std::string{folded.begin()->key()};
  auto answer = ask<query_result>(second, query_atom::value, key);
  BOOST_REQUIRE(answer);
  BOOST_TEST(answer->value == folded.at(key));
  // And it runs live from there.
  publish(abc(112, 8));
  BOOST_TEST(status(second).checkpoint == 120u);
  BOOST_TEST(stored().checkpoint == 120u);
  BOOST_TEST(snapshot_of(second) == fold());
}

BOOST_AUTO_TEST_CASE(a_restart_restores_the_table_row_by_row_or_whole) {
  auto first = start();
  for (std::size_t i = 0; i < 100; i += 10)
    publish(abc(i, 10));
  stop(first);
  auto rows = stored().rows.size();
  BOOST_REQUIRE(rows > 0u);
  // Row by row, counted for bus-node's start-up (restore_progress.hpp).
  auto restores = std::make_shared<bus::restore_progress>();
  auto opts = options();
  opts.restores = restores;
  auto second = bus::actors::spawn_projector(sys, bus, table_docs_spec(), opts);
  run();
  BOOST_TEST(restores->rows.load() == rows);
  BOOST_TEST(restores->models.load() == 0u);
  BOOST_TEST(status(second).replayed == 0u);
  BOOST_TEST(snapshot_of(second) == fold());
  stop(second);
  // Whole, for a model that cannot restore row by row: from the table
  // still, not rebuilt from the log.
  auto third = start(model_spec{"docs", [] { return std::make_unique<whole_docs>(); },
                                model_storage::sqlite});
  BOOST_TEST(status(third).replayed == 0u);
  BOOST_TEST(snapshot_of(third) == fold());
  publish(abc(100, 10));
  BOOST_TEST(snapshot_of(third) == fold());
  BOOST_TEST(boost::json::value(stored().rows) == fold());
}

BOOST_AUTO_TEST_CASE(events_delivered_twice_are_applied_once_across_a_restart) {
  auto first = start();
  publish(abc(0, 40));
  stop(first);
  auto second = start();
  // A transport retry re-pushes the whole log: the restarted projector knows
  // from its table that it processed all of it.
  auto pushed = ask<std::uint64_t>(bus, redeliver_atom::value, std::uint64_t{1});
  BOOST_REQUIRE(pushed);
  BOOST_TEST(*pushed == 40u);
  run();
  auto st = status(second);
  BOOST_TEST(st.applied == 0u);
  BOOST_TEST(st.skipped == 30u); // the A and B events; C is not handled
  BOOST_TEST(snapshot_of(second) == fold());
  // A batch delivered again by hand is skipped too.
  auto ack = ask<delivery_ack>(second, deliver_atom::value, log->read(1, 8),
                               std::uint64_t{1});
  BOOST_REQUIRE(ack);
  BOOST_TEST(ack->applied.empty());
  BOOST_TEST(ack->skipped.size() == 6u);
  BOOST_TEST(stored().checkpoint == 40u);
}

BOOST_AUTO_TEST_CASE(rebuild_empties_the_table_then_refills_it_from_the_log) {
  auto p = start();
  publish(abc(0, 50));
  self->send(p, rebuild_atom::value);
  sched.run_once(); // the projector takes the rebuild request
  auto during = stored();
  BOOST_TEST(during.checkpoint == 0u);
  BOOST_TEST(during.rows.empty());
  run();
  auto st = status(p);
  BOOST_TEST(st.rebuilds == 1u);
  BOOST_TEST(st.state == model_state::running);
  auto after = stored();
  BOOST_TEST(after.checkpoint == 50u);
  BOOST_TEST(boost::json::value(after.rows) == fold());
}

BOOST_AUTO_TEST_CASE(changed_definition_rebuilds_the_table_from_the_log) {
  auto first = start(table_docs_spec(true));
  publish(abc(0, 30));
  stop(first);
  // The same model now ignores deletes: its old rows mean nothing.
  auto second = start(table_docs_spec(false));
  auto st = status(second);
  BOOST_TEST(st.checkpoint == 30u);
  BOOST_TEST(st.replayed == 16u); // every A event again, from seq 1
  BOOST_TEST(snapshot_of(second) == fold(false));
  BOOST_TEST(boost::json::value(stored(false).rows) == fold(false));
}

BOOST_AUTO_TEST_CASE(failed_commit_fails_the_projector_and_loses_nothing) {
  auto first = start();
  publish(abc(0, 20));
  self->monitor(first);
  sql("CREATE TRIGGER refuse BEFORE UPDATE ON checkpoints "
      "BEGIN SELECT RAISE(ABORT, 'disk full'); END");
  auto ack = publish(abc(20, 20));
  // The projector did not acknowledge what it could not commit.
  for (auto& m : ack.models)
    BOOST_TEST(m.applied.empty());
  caf::error reason;
  self->receive([&](caf::down_msg& dm) { reason = dm.reason; });
  BOOST_TEST(code_of(reason) == errc::storage_failed);
  BOOST_TEST(context_of(reason).find("disk full") != std::string::npos,
             context_of(reason));
  // The table kept its last commit, consistent with its checkpoint.
  sql("DROP TRIGGER refuse");
  auto table = stored();
  BOOST_TEST(table.checkpoint == 20u);
  // A replacement loads it and pulls the rest from the log.
  auto second = start();
  auto st = status(second);
  BOOST_TEST(st.checkpoint == 40u);
  BOOST_TEST(st.replayed == 15u);
  BOOST_TEST(snapshot_of(second) == fold());
}

BOOST_AUTO_TEST_CASE(table_ahead_of_a_replaced_log_is_rebuilt_from_it) {
  auto first = start();
  publish(abc(0, 40));
  stop(first);
  // The log is replaced by a shorter one (a store deleted, the models
  // database kept): the table's checkpoint 40 is not this log's.
  auto other_log = std::make_shared<memory_log>();
  auto other_bus = spawn_bus(sys, other_log, bus_options{});
  run();
  auto fresh = abc(100, 10);
  other_log->append(fresh);
  auto p = bus::actors::spawn_projector(sys, other_bus, table_docs_spec(), options());
  run();
  document_model expected{table_docs_config()};
  for (auto& e : other_log->read(1, 100))
    expected.apply(e);
  BOOST_TEST(status(p).checkpoint == 10u);
  BOOST_TEST(snapshot_of(p) == expected.snapshot());
  BOOST_TEST(stored().checkpoint == 10u);
  BOOST_TEST(boost::json::value(stored().rows) == expected.snapshot());
  self->send_exit(other_bus, caf::exit_reason::user_shutdown);
  run();
}

BOOST_AUTO_TEST_CASE(model_that_cannot_track_changes_fails_with_a_clear_error) {
  auto spec = tally("tally", {"A"});
  spec.storage = model_storage::sqlite;
  auto p = bus::actors::spawn_projector(sys, bus, spec, options());
  self->monitor(p);
  run();
  caf::error reason;
  self->receive([&](caf::down_msg& dm) { reason = dm.reason; });
  BOOST_TEST(code_of(reason) == errc::invalid_config);
  BOOST_TEST(context_of(reason).find("'tally' cannot persist to a table")
             != std::string::npos);
}

BOOST_AUTO_TEST_CASE(without_a_models_path_sqlite_models_stay_in_memory) {
  auto p = bus::actors::spawn_projector(sys, bus, table_docs_spec(), replaying(16));
  run();
  publish(abc(0, 20));
  BOOST_TEST(snapshot_of(p) == fold());
  BOOST_TEST(!std::filesystem::exists(models_path));
}

BOOST_AUTO_TEST_SUITE_END()
