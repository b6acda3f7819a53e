// The bus over a store that syncs at most every 10 ms (group commit): no
// reply and no fan-out names an event before the sync that makes it durable,
// and a failed sync answers every held reply with the storage error. Last,
// group commit over a store that syncs each batch.

#include "bus/actors/bus_actor.hpp"

#include <filesystem>
#include <random>

#include <sqlite3.h>

#include "bus/errc.hpp"
#include "bus/sqlite_log.hpp"
#include "support/bus_fixture.hpp"
#include "support/sqlite_scratch.hpp"

using namespace bus;
using namespace bus::actors;
using namespace bus::test;

namespace {

constexpr auto interval = std::chrono::milliseconds{10};

// A scratch directory, removed after the actor system is gone.
struct scratch_dir {
  std::filesystem::path dir;
  scratch_dir() {
    std::random_device rd;
    dir = std::filesystem::temp_directory_path()
          / ("bus-interval-test-" + std::to_string(rd()));
    std::filesystem::create_directories(dir);
  }
  ~scratch_dir() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::string store() const { return (dir / "log.db").string(); }

  std::uint64_t head_in_file() const { return bus::test::head_in_file(store()); }
};

std::shared_ptr<sqlite_log> open_store(const std::string& path) {
  auto log = sqlite_log::open(path, durability::every(interval));
  if (!log)
    BOOST_FAIL(context_of(log.error()));
  return *log;
}

// A reply that may not have come yet.
template <class T>
using held = std::shared_ptr<std::optional<caf::expected<T>>>;

struct interval_fixture : scratch_dir, deterministic_fixture {
  std::shared_ptr<sqlite_log> log = open_store(store());
  bus_actor bus = spawn_bus(sys, std::shared_ptr<event_log>{log}, bus_options{});

  interval_fixture() { run(); }

  ~interval_fixture() {
    self->send_exit(bus, caf::exit_reason::user_shutdown);
    run();
  }

  /// Sends a request and runs the system until idle, without firing any
  /// timer: the reply is there only if the bus gave it without a sync.
  template <class T, class... Ts>
  held<T> send(Ts... xs) {
    auto result = std::make_shared<std::optional<caf::expected<T>>>();
    sys.spawn([=](caf::event_based_actor* a) {
      a->request(caf::actor_cast<caf::actor>(bus), caf::infinite, xs...)
        .then([=](T& x) { *result = std::move(x); },
              [=](caf::error& err) { *result = std::move(err); });
    });
    run();
    return result;
  }

  held<publish_ack> publish(std::vector<event> batch,
                            publish_wait wait = publish_wait::projectors) {
    return send<publish_ack>(publish_atom::value, std::move(batch), wait);
  }

  /// Replaces the bus by one with `opts` on the same log.
  void respawn_bus(const bus_options& opts) {
    self->send_exit(bus, caf::exit_reason::user_shutdown);
    run();
    bus = spawn_bus(sys, std::shared_ptr<event_log>{log}, opts);
    run();
  }

  /// Lets the sync interval pass: the bus's timer fires.
  void let_interval_pass() {
    sched.advance_time(interval);
    run();
  }

  projector_actor spawn_projector(model_spec spec) {
    auto p = bus::actors::spawn_projector(sys, bus, std::move(spec), replaying(100));
    run();
    return p;
  }

  std::vector<std::uint64_t> seqs_applied_by(const projector_actor& p) {
    auto snap = ask<model_snapshot>(p, snapshot_atom::value);
    BOOST_REQUIRE(snap);
    std::vector<std::uint64_t> result;
    for (auto& s : snap->state.at("seqs").as_array())
      result.push_back(s.as_uint64());
    return result;
  }

  /// Makes every further commit of the store fail, as a full disk would.
  void break_store() {
    exec_on_store("CREATE TRIGGER refuse BEFORE INSERT ON batches "
                  "BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
  }

  void repair_store() { exec_on_store("DROP TRIGGER refuse"); }

  void exec_on_store(const char* sql) {
    sqlite3* db = nullptr;
    BOOST_REQUIRE(sqlite3_open(store().c_str(), &db) == SQLITE_OK);
    auto rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
    sqlite3_close(db);
    BOOST_REQUIRE(rc == SQLITE_OK);
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(bus_actor_interval, interval_fixture)

BOOST_AUTO_TEST_CASE(publish_is_acknowledged_only_when_the_sync_timer_fires) {
  auto ack = publish(bus_fixture::events(0, 3, {"A"}));
  BOOST_TEST(!ack->has_value()); // appended, not durable: no reply yet
  BOOST_TEST(log->head() == 3u);
  BOOST_TEST(log->durable_head() == 0u);
  sched.advance_time(interval - std::chrono::milliseconds{1});
  run();
  BOOST_TEST(!ack->has_value()); // the interval has not passed
  sched.advance_time(std::chrono::milliseconds{1});
  run();
  BOOST_REQUIRE(ack->has_value());
  BOOST_REQUIRE(**ack);
  BOOST_TEST((**ack)->outcomes.size() == 3u);
  BOOST_TEST((**ack)->outcomes[2].seq == 3u);
  BOOST_TEST(log->durable_head() == 3u);
  // What was acknowledged is in the file.
  BOOST_TEST(head_in_file() == 3u);
}

BOOST_AUTO_TEST_CASE(batches_of_one_interval_share_one_sync) {
  auto first = publish(bus_fixture::events(0, 2, {"A"}), publish_wait::log);
  auto second = publish(bus_fixture::events(2, 2, {"A"}), publish_wait::log);
  BOOST_TEST(!first->has_value());
  BOOST_TEST(!second->has_value());
  let_interval_pass();
  BOOST_REQUIRE(first->has_value());
  BOOST_REQUIRE(second->has_value());
  BOOST_TEST((**second)->outcomes[1].seq == 4u);
  BOOST_TEST(sched.trigger_timeouts() == 0u); // one timer served both
}

BOOST_AUTO_TEST_CASE(fan_out_and_replay_wait_for_durability) {
  auto p = spawn_projector(tally("p", {"A"}));
  auto ack = publish(bus_fixture::events(0, 4, {"A"}), publish_wait::log);
  // Appended but not durable: no projector sees it, nor a replay or head.
  BOOST_TEST(seqs_applied_by(p).empty());
  auto replayed = ask<event_batch>(bus, replay_atom::value, std::uint64_t{1},
                                   std::uint32_t{10});
  BOOST_REQUIRE(replayed);
  BOOST_TEST(replayed->empty());
  BOOST_TEST(*ask<std::uint64_t>(bus, head_atom::value) == 0u);
  let_interval_pass();
  BOOST_REQUIRE(ack->has_value());
  BOOST_TEST((seqs_applied_by(p) == std::vector<std::uint64_t>{1, 2, 3, 4}));
  BOOST_TEST(*ask<std::uint64_t>(bus, head_atom::value) == 4u);
}

BOOST_AUTO_TEST_CASE(awaited_publish_names_the_models_after_the_sync) {
  auto p = spawn_projector(tally("p", {"A"}));
  auto ack = publish(bus_fixture::events(0, 2, {"A"}), publish_wait::projectors);
  BOOST_TEST(!ack->has_value());
  let_interval_pass();
  BOOST_REQUIRE(ack->has_value());
  BOOST_REQUIRE(**ack);
  BOOST_REQUIRE((**ack)->models.size() == 1u);
  BOOST_TEST(((**ack)->models[0].applied == std::vector<std::uint32_t>{0, 1}));
}

// A bus that stops answers what it holds: the replies waiting for the
// sync after it (durable now), and an error for a publish that waits for
// projectors that can no longer answer it. Both were dropped unanswered,
// and a publisher without a timeout waited for ever.
BOOST_AUTO_TEST_CASE(a_bus_that_stops_answers_every_publish_it_holds) {
  auto p = spawn_projector(tally("p", {"A"}));
  auto logged = publish(bus_fixture::events(0, 2, {"A"}), publish_wait::log);
  auto applied = publish(bus_fixture::events(2, 2, {"A"}), publish_wait::projectors);
  BOOST_TEST(!logged->has_value());
  BOOST_TEST(!applied->has_value());
  self->send_exit(bus, caf::exit_reason::user_shutdown);
  run();
  BOOST_REQUIRE(logged->has_value());
  BOOST_REQUIRE(**logged);
  BOOST_TEST((**logged)->outcomes[1].seq == 2u);
  BOOST_TEST(head_in_file() == 4u);
  BOOST_REQUIRE(applied->has_value());
  BOOST_REQUIRE(!**applied);
  BOOST_TEST(code_of((*applied)->error()) == errc::model_unavailable);
  BOOST_TEST(to_string((*applied)->error()).find("seq 3 to 4") != std::string::npos,
             to_string((*applied)->error()));
}

BOOST_AUTO_TEST_CASE(duplicate_of_a_pending_event_is_acknowledged_after_the_sync) {
  auto first = publish(bus_fixture::events(0, 2, {"A"}));
  auto again = publish(bus_fixture::events(0, 2, {"A"})); // both duplicates
  auto resolved = send<std::vector<publish_outcome>>(resolve_atom::value,
                                                     bus_fixture::events(1, 1, {"A"}));
  // The duplicates name events a crash could still lose: held as well.
  BOOST_TEST(!again->has_value());
  BOOST_TEST(!resolved->has_value());
  let_interval_pass();
  BOOST_REQUIRE(first->has_value() && again->has_value() && resolved->has_value());
  BOOST_REQUIRE(**again);
  BOOST_TEST((**again)->outcomes[0].duplicate);
  BOOST_TEST((**again)->outcomes[1].seq == 2u);
  BOOST_REQUIRE(**resolved);
  BOOST_TEST((***resolved)[0].duplicate);
  BOOST_TEST((***resolved)[0].seq == 2u);
  // Once durable, a duplicate is acknowledged at once.
  auto later = publish(bus_fixture::events(0, 1, {"A"}));
  BOOST_REQUIRE(later->has_value());
  BOOST_TEST((**later)->outcomes[0].duplicate);
}

BOOST_AUTO_TEST_CASE(failed_sync_answers_every_held_publish_with_the_error) {
  auto p = spawn_projector(tally("p", {"A"}));
  auto first = publish(bus_fixture::events(0, 2, {"A"}));
  auto second = publish(bus_fixture::events(2, 2, {"A"}), publish_wait::log);
  auto duplicate = publish(bus_fixture::events(1, 1, {"A"}));
  break_store();
  let_interval_pass();
  for (auto& reply : {first, second, duplicate}) {
    BOOST_REQUIRE(reply->has_value());
    BOOST_REQUIRE(!**reply);
    BOOST_TEST(code_of((*reply)->error()) == errc::storage_failed);
    BOOST_TEST(context_of((*reply)->error()).find("injected failure")
               != std::string::npos);
  }
  // Nothing of it was applied, nor kept: the events can be sent again.
  BOOST_TEST(seqs_applied_by(p).empty());
  BOOST_TEST(log->head() == 0u);
  repair_store();
  auto retry = publish(bus_fixture::events(0, 4, {"A"}));
  let_interval_pass();
  BOOST_REQUIRE(retry->has_value());
  BOOST_REQUIRE(**retry);
  BOOST_TEST(!(**retry)->outcomes[0].duplicate);
  BOOST_TEST((**retry)->outcomes[3].seq == 4u);
  BOOST_TEST((seqs_applied_by(p) == std::vector<std::uint64_t>{1, 2, 3, 4}));
}

BOOST_AUTO_TEST_CASE(events_a_dead_bus_left_undurable_still_reach_projectors) {
  // Found by bus-sim: a bus restarted on the same log found events appended
  // but not yet synced by its predecessor; its first sync made them durable
  // without fanning them out, and projectors passed over them for good.
  auto p = spawn_projector(tally("p", {"A"}));
  auto lost = publish(bus_fixture::events(0, 2, {"A"}));
  BOOST_TEST(log->head() == 2u);
  BOOST_TEST(log->durable_head() == 0u);
  self->send_exit(bus, caf::exit_reason::kill);
  run();
  BOOST_TEST(!lost->has_value()); // never acknowledged
  bus = spawn_bus(sys, std::shared_ptr<event_log>{log}, bus_options{});
  run();
  self->send(p, rebind_atom::value, caf::actor_cast<caf::actor>(bus));
  run();
  auto ack = publish(bus_fixture::events(2, 2, {"A"}));
  let_interval_pass();
  BOOST_REQUIRE(ack->has_value());
  BOOST_REQUIRE(**ack);
  // Every event the log holds durably is applied, the two orphans too.
  BOOST_TEST(log->durable_head() == 4u);
  BOOST_TEST((seqs_applied_by(p) == std::vector<std::uint64_t>{1, 2, 3, 4}));
}

BOOST_AUTO_TEST_CASE(an_anonymous_publish_is_logged_applied_and_answered_to_nobody) {
  // Found by bus-bench once the bus held publishes for its syncs: a publish
  // sent with anon_send has no sender, and counting it among its
  // publisher's publishes in flight hashed a null address (a crash).
  auto p = spawn_projector(tally("p", {"A"}));
  caf::anon_send(bus, publish_atom::value, bus_fixture::events(0, 2, {"A"}),
                 publish_wait::projectors);
  caf::anon_send(bus, publish_atom::value, bus_fixture::events(2, 2, {"A"}),
                 publish_wait::log);
  run();
  let_interval_pass();
  BOOST_TEST(log->durable_head() == 4u);
  BOOST_TEST((seqs_applied_by(p) == std::vector<std::uint64_t>{1, 2, 3, 4}));
  // And the bus goes on answering publishers that have an address.
  auto ack = publish(bus_fixture::events(4, 1, {"A"}));
  let_interval_pass();
  BOOST_REQUIRE(ack->has_value());
  BOOST_REQUIRE(**ack);
  BOOST_TEST((**ack)->outcomes[0].seq == 5u);
}

BOOST_AUTO_TEST_CASE(a_group_of_sync_after_events_is_committed_without_waiting) {
  // Found running bus-node with --durability interval:1000: its session
  // keeps 48 publishes under way, so it stalled until each timer fired and
  // went 5x slower than under fsync. A group that large gains nothing from
  // waiting longer.
  bus_options opts;
  opts.sync_after_events = 5;
  respawn_bus(opts);
  auto first = publish(bus_fixture::events(0, 3, {"A"}), publish_wait::log);
  BOOST_TEST(!first->has_value()); // 3 waiting: the interval decides
  auto second = publish(bus_fixture::events(3, 3, {"A"}), publish_wait::log);
  BOOST_REQUIRE(first->has_value()); // 6 waiting: committed at once
  BOOST_REQUIRE(second->has_value());
  BOOST_REQUIRE(**second);
  BOOST_TEST((**second)->outcomes[2].seq == 6u);
  BOOST_TEST(log->durable_head() == 6u);
  BOOST_TEST(log->timings().commit.count() == 1u);
  // A smaller group waits for its interval again, the first timer firing
  // on nothing but what came since.
  auto third = publish(bus_fixture::events(6, 1, {"A"}), publish_wait::log);
  BOOST_TEST(!third->has_value());
  let_interval_pass();
  BOOST_REQUIRE(third->has_value());
  BOOST_REQUIRE(**third);
  BOOST_TEST((**third)->outcomes[0].seq == 7u);
  BOOST_TEST(log->durable_head() == 7u);
  BOOST_TEST(log->timings().commit.count() == 2u);
}

BOOST_AUTO_TEST_CASE(sync_after_replies_held_commits_without_waiting) {
  // bus-node --batch-size 1 under interval:10 publishes one event at a
  // time, 48 under way: it went at 48 events per interval, 2.6x slower
  // than under fsync.
  bus_options opts;
  opts.sync_after_replies = 3;
  respawn_bus(opts);
  auto first = publish(bus_fixture::events(0, 1, {"A"}), publish_wait::log);
  auto second = publish(bus_fixture::events(1, 1, {"A"}), publish_wait::log);
  BOOST_TEST(!first->has_value()); // 2 held: the interval decides
  BOOST_TEST(!second->has_value());
  // A duplicate of an event not yet durable is held too, and counts.
  auto again = publish(bus_fixture::events(0, 1, {"A"}), publish_wait::log);
  BOOST_REQUIRE(first->has_value());
  BOOST_REQUIRE(second->has_value());
  BOOST_REQUIRE(again->has_value());
  BOOST_REQUIRE(**again);
  BOOST_TEST((**again)->outcomes[0].duplicate);
  BOOST_TEST(log->durable_head() == 2u);
  BOOST_TEST(log->timings().commit.count() == 1u);
}

BOOST_AUTO_TEST_CASE(
  publishes_waiting_together_share_one_commit_when_each_batch_syncs) {
  // Group commit under fsync_each_batch: the bus syncs once it has appended
  // the publishes already in its mailbox, so two of them cost one commit
  // (and one fsync).
  scratch_dir other;
  auto opened = sqlite_log::open(other.store(), durability{});
  BOOST_REQUIRE(opened);
  auto each = *opened;
  auto each_bus = spawn_bus(sys, std::shared_ptr<event_log>{each}, bus_options{});
  run();
  auto first = std::make_shared<std::optional<caf::expected<publish_ack>>>();
  auto second = std::make_shared<std::optional<caf::expected<publish_ack>>>();
  // Both requests are in the bus's mailbox before it runs.
  auto request = [&](held<publish_ack> answer, std::size_t from) {
    sys.spawn([=, b = each_bus](caf::event_based_actor* a) {
      a->request(b, caf::infinite, publish_atom::value,
                 bus_fixture::events(from, 2, {"A"}), publish_wait::log)
        .then([=](publish_ack& x) { *answer = std::move(x); },
              [=](caf::error& err) { *answer = std::move(err); });
    });
  };
  request(first, 0);
  request(second, 2);
  run(); // no timer: the sync needs none
  BOOST_REQUIRE(first->has_value());
  BOOST_REQUIRE(**first);
  BOOST_REQUIRE(second->has_value());
  BOOST_REQUIRE(**second);
  BOOST_TEST((**second)->outcomes[1].seq == 4u);
  BOOST_TEST(each->durable_head() == 4u);
  BOOST_TEST(each->timings().commit.count() == 1u);
  BOOST_TEST(other.head_in_file() == 4u); // in the file
  self->send_exit(each_bus, caf::exit_reason::user_shutdown);
  run();
}

BOOST_AUTO_TEST_CASE(a_backlog_of_publishes_does_not_hold_back_the_first_ones_answers) {
  // Found with bus-bench's snapshots rows: a publisher that sends faster
  // than the log commits (unawaited publishes) left the sync behind every
  // publish in the bus's mailbox, so that nothing was answered or fanned
  // out before the whole backlog was appended: the models then ran after
  // the log instead of beside it, at half the memory log's rate.
  scratch_dir other;
  auto opened = sqlite_log::open(other.store(), durability{});
  BOOST_REQUIRE(opened);
  auto each = *opened;
  bus_options opts;
  opts.sync_ahead_events = 4;
  auto each_bus = spawn_bus(sys, std::shared_ptr<event_log>{each}, opts);
  run();
  constexpr std::uint64_t publishes = 6;
  std::vector<held<publish_ack>> answers;
  // Every request is in the bus's mailbox before it runs.
  for (std::uint64_t i = 0; i < publishes; ++i) {
    answers.push_back(std::make_shared<std::optional<caf::expected<publish_ack>>>());
    sys.spawn([=, b = each_bus, answer = answers.back()](caf::event_based_actor* a) {
      a->request(b, caf::infinite, publish_atom::value,
                 bus_fixture::events(2 * i, 2, {"A"}), publish_wait::log)
        .then([=](publish_ack& x) { *answer = std::move(x); },
              [=](caf::error& err) { *answer = std::move(err); });
    });
  }
  // One message at a time, until the first events are durable (and their
  // publishes answered): the rest of the backlog is still to be appended.
  while (each->durable_head() == 0 && sched.try_run_once()) {
    // nop
  }
  BOOST_TEST(each->durable_head() == 4u);
  BOOST_TEST(each->head() < 2 * publishes);
  run();
  for (auto& answer : answers) {
    BOOST_REQUIRE(answer->has_value());
    BOOST_REQUIRE(**answer);
  }
  BOOST_TEST(each->durable_head() == 2 * publishes);
  BOOST_TEST(each->timings().commit.count() == 3u); // 4 events each
  self->send_exit(each_bus, caf::exit_reason::user_shutdown);
  run();
}

BOOST_AUTO_TEST_SUITE_END()
