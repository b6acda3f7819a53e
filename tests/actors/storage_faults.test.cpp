// Storage faults under the actors, injected by a VFS (support/fault_vfs.hpp):
// a failed write, a failed fsync and a full disk during a batch appended
// to the log, a snapshot and a model-table commit. Nothing acknowledged is
// lost: a failing projector is replaced and pulls again from what its store
// kept, a projector whose snapshot failed goes on and saves a whole one
// next, a failed log refuses publishes until the node restarts.

#include <filesystem>

#include "bus/actors/bus_actor.hpp"
#include "bus/actors/projector.hpp"
#include "bus/document_model.hpp"
#include "bus/errc.hpp"
#include "bus/log.hpp"
#include "bus/sqlite_log.hpp"
#include "support/bus_fixture.hpp"
#include "support/keyed_docs.hpp"
#include "support/fault_vfs.hpp"
#include "support/sqlite_scratch.hpp"

using namespace bus;
using namespace bus::actors;
using namespace bus::test;

namespace {

// Made first and gone last: every store of the test opens its files through
// it, and closes them before it goes.
struct faults_base {
  fault_vfs faults;
  sqlite_scratch dir{"bus-storage-faults-", "bus.db"};
};

struct faults_fixture : faults_base, bus_fixture {
  std::string models_path = dir.path + ".models";
  std::string snapshots_path = dir.path + ".snapshots";

  projector_actor start(model_storage storage, std::uint64_t snapshot_every = 0) {
    auto options = replaying(16);
    if (storage == model_storage::sqlite) {
      options.models_path = models_path;
    } else {
      options.snapshot_path = snapshots_path;
      options.snapshot_every = snapshot_every;
    }
    auto p = bus::actors::spawn_projector(sys, bus, keyed_docs(storage), options);
    run();
    return p;
  }

  boost::json::value fold() {
    document_model m{keyed_docs_config()};
    for (auto& e : whole_log())
      m.apply(e);
    return m.snapshot();
  }

  /// Publishes `xs` one event per batch (a snapshot may follow each).
  void publish_each(const std::vector<event>& xs) {
    for (auto& e : xs)
      publish({e});
  }

  /// A bus over the durable log at dir.path, opened anew.
  bus_actor spawn_durable_bus(std::shared_ptr<sqlite_log>& store) {
    auto opened = sqlite_log::open(dir.path);
    BOOST_REQUIRE(opened);
    store = std::move(*opened);
    auto result = spawn_bus(sys, store, bus_options{});
    run();
    return result;
  }

  /// Publishes `xs` to `dest`, acknowledged once they are in the log.
  caf::expected<publish_ack> publish_to(const bus_actor& dest, std::vector<event> xs) {
    return ask<publish_ack>(dest, publish_atom::value, std::move(xs),
                            publish_wait::log);
  }

  /// Publishes `xs` to `dest` from the test's own actor: one publisher
  /// across calls, as a client's session is.
  caf::expected<publish_ack>
  publish_as_self(const bus_actor& dest, std::vector<event> xs,
                  publish_order order = publish_order::as_sent) {
    caf::expected<publish_ack> result{caf::error{}};
    auto answer = self->request(dest, caf::infinite, publish_atom::value, std::move(xs),
                                publish_wait::log, order);
    run();
    answer.receive([&](publish_ack& ack) { result = std::move(ack); },
                   [&](caf::error& err) { result = std::move(err); });
    return result;
  }

  /// Waits for `p` to go down and returns why.
  caf::error down_reason() {
    caf::error reason;
    self->receive([&](caf::down_msg& dm) { reason = dm.reason; });
    return reason;
  }

  /// A projector whose table commit hits `kind`: it fails with
  /// storage_failed having acknowledged nothing of the batch, and a
  /// replacement on the well disk ends equal to the fold of the log.
  void check_failed_table_commit(fault_kind kind) {
    auto first = start(model_storage::sqlite);
    publish(events(0, 20, {"A", "A", "B"}, 7));
    self->monitor(first);
    faults.arm(kind, ".models-wal");
    auto ack = publish(events(20, 20, {"A", "A", "B"}, 7));
    BOOST_REQUIRE_GT(faults.failed(), 0u);
    for (auto& m : ack.models)
      BOOST_TEST(m.applied.empty());
    auto reason = down_reason();
    BOOST_TEST(code_of(reason) == errc::storage_failed, to_string(reason));
    faults.disarm();
    auto second = start(model_storage::sqlite);
    auto st = status(second);
    BOOST_TEST(st.state == model_state::running);
    BOOST_TEST(st.checkpoint == 40u);
    BOOST_TEST(snapshot_of(second) == fold());
    stop(second);
  }

  /// A projector whose periodic snapshot hits `kind` goes on answering: a
  /// snapshot only saves replay at the next start. The stored rows miss
  /// what the failed one held (key6 here, which nothing changes later), so
  /// its next snapshot replaces them all, and a replacement restores that
  /// and equals the fold.
  void check_failed_snapshot(fault_kind kind) {
    auto first = start(model_storage::memory, 3);
    publish_each(events(0, 6, {"A"}, 3)); // a base at 3, a delta at 6
    faults.arm(kind, ".snapshots");
    publish_each(events(6, 3, {"A"}, 7)); // keys 6, 0, 1: the one at 9 fails
    BOOST_REQUIRE_GT(faults.failed(), 0u);
    faults.disarm();
    auto st = status(first);
    BOOST_TEST(st.state == model_state::running);
    BOOST_TEST(st.checkpoint == 9u);
    BOOST_TEST(snapshot_of(first) == fold());
    publish_each(events(9, 3, {"A"}, 3)); // keys 0, 1, 2: the one at 12
    stop(first);
    auto second = start(model_storage::memory, 3);
    st = status(second);
    BOOST_TEST(st.state == model_state::running);
    BOOST_TEST(st.checkpoint == 12u);
    BOOST_TEST(st.replayed == 0u);
    BOOST_TEST(snapshot_of(second) == fold());
    stop(second);
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(storage_faults, faults_fixture)

BOOST_AUTO_TEST_CASE(a_failed_write_in_a_table_commit_loses_nothing) {
  check_failed_table_commit(fault_kind::write_error);
}

BOOST_AUTO_TEST_CASE(a_full_disk_in_a_table_commit_loses_nothing) {
  check_failed_table_commit(fault_kind::disk_full);
}

// Tables commit without an fsync (synchronous=NORMAL: the log can rebuild
// what a power loss takes); they sync when their WAL is checkpointed, as
// when the last connection closes. A failed fsync there keeps the WAL, and
// the next opening finds every commit in it.
BOOST_AUTO_TEST_CASE(a_failed_fsync_of_a_table_keeps_every_commit) {
  auto first = start(model_storage::sqlite);
  publish(events(0, 20, {"A", "A", "B"}, 7));
  faults.arm(fault_kind::sync_error, ".models");
  stop(first);
  BOOST_REQUIRE_GT(faults.failed(), 0u);
  faults.disarm();
  auto second = start(model_storage::sqlite);
  auto st = status(second);
  BOOST_TEST(st.checkpoint == 20u);
  BOOST_TEST(st.replayed == 0u);
  BOOST_TEST(snapshot_of(second) == fold());
  stop(second);
}

BOOST_AUTO_TEST_CASE(a_failed_write_in_a_snapshot_loses_nothing) {
  check_failed_snapshot(fault_kind::write_error);
}

BOOST_AUTO_TEST_CASE(a_failed_fsync_in_a_snapshot_loses_nothing) {
  check_failed_snapshot(fault_kind::sync_error);
}

BOOST_AUTO_TEST_CASE(a_full_disk_in_a_snapshot_loses_nothing) {
  check_failed_snapshot(fault_kind::disk_full);
}

// The bus over a durable log: a failed commit answers the publish with
// storage_failed, the bus says its store failed, and it refuses every
// publish until it is restarted on the reopened store, which holds every
// acknowledged event.
BOOST_AUTO_TEST_CASE(a_failed_log_commit_fails_publishes_until_the_restart) {
  for (auto kind : {fault_kind::write_error, fault_kind::sync_error}) {
    BOOST_TEST_CONTEXT(static_cast<int>(kind)) {
      std::filesystem::remove(dir.path);
      std::filesystem::remove(dir.path + "-wal");
      std::filesystem::remove(dir.path + "-shm");
      std::shared_ptr<sqlite_log> store;
      auto durable = spawn_durable_bus(store);
      BOOST_REQUIRE(publish_to(durable, events(0, 10, {"A"})));
      // The operator reads it on the node's log, once, not per refusal.
      std::vector<std::string> said;
      set_log_sink([&said](const log_record& r) {
        if (r.level == log_level::error && r.source == "bus")
          said.emplace_back(r.message);
      });
      faults.arm(kind, "-wal");
      auto refused = publish_to(durable, events(10, 5, {"A"}));
      BOOST_REQUIRE(!refused);
      BOOST_TEST(code_of(refused.error()) == errc::storage_failed);
      faults.disarm();
      auto st = ask<bus_status>(durable, status_atom::value);
      BOOST_REQUIRE(st);
      BOOST_TEST(st->store_state == store_state::failed);
      BOOST_TEST(!st->store_error.empty());
      BOOST_TEST(st->head == 10u);
      auto again = publish_to(durable, events(10, 5, {"A"}));
      BOOST_REQUIRE(!again);
      BOOST_TEST(code_of(again.error()) == errc::storage_failed);
      set_log_sink({});
      BOOST_REQUIRE_EQUAL(said.size(), 1u);
      BOOST_TEST(said[0].find("store failed: ") == 0u, said[0]);
      BOOST_TEST(said[0].find(st->store_error) != std::string::npos, said[0]);
      self->send_exit(durable, caf::exit_reason::user_shutdown);
      run();
      store.reset();
      // The restart: the reopened store holds every acknowledged event.
      auto restarted = spawn_durable_bus(store);
      BOOST_TEST(store->health().state == store_state::healthy);
      auto ack = publish_to(restarted, events(0, 15, {"A"}));
      BOOST_REQUIRE(ack);
      for (std::size_t i = 0; i < 10; ++i)
        BOOST_TEST(ack->outcomes[i].duplicate);
      BOOST_TEST(store->head() == 15u);
      self->send_exit(restarted, caf::exit_reason::user_shutdown);
      run();
    }
  }
}

// A full disk refuses the publish and leaves the store healthy: once there
// is room, the same events are taken.
BOOST_AUTO_TEST_CASE(a_full_disk_refuses_the_publish_and_then_recovers) {
  std::shared_ptr<sqlite_log> store;
  auto durable = spawn_durable_bus(store);
  BOOST_REQUIRE(publish_to(durable, events(0, 10, {"A"})));
  faults.arm(fault_kind::disk_full, "-wal");
  auto refused = publish_to(durable, events(10, 5, {"A"}));
  BOOST_REQUIRE(!refused);
  BOOST_TEST(code_of(refused.error()) == errc::storage_failed);
  auto st = ask<bus_status>(durable, status_atom::value);
  BOOST_REQUIRE(st);
  BOOST_TEST(st->store_state == store_state::healthy);
  faults.disarm();
  auto ack = publish_to(durable, events(10, 5, {"A"}));
  BOOST_REQUIRE(ack);
  BOOST_TEST(ack->outcomes.back().seq == 15u);
  self->send_exit(durable, caf::exit_reason::user_shutdown);
  run();
}

// A full disk fails one publish; once there is room, the same publisher's
// next publish would commit before the failed one is resent, and the log
// would not hold its events in the order it sent them (a pipelined session
// has several under way). So the bus refuses them until the resend, which
// may begin with events the log holds already. Other publishers go on.
BOOST_AUTO_TEST_CASE(a_full_disk_holds_the_publishers_later_events_until_its_resend) {
  std::shared_ptr<sqlite_log> store;
  auto durable = spawn_durable_bus(store);
  BOOST_REQUIRE(publish_as_self(durable, events(0, 10, {"A"})));
  faults.arm(fault_kind::disk_full, "-wal");
  auto failed = publish_as_self(durable, events(10, 5, {"A"}));
  BOOST_REQUIRE(!failed);
  BOOST_TEST(code_of(failed.error()) == errc::storage_failed);
  faults.disarm();
  auto later = publish_as_self(durable, events(15, 5, {"A"}));
  BOOST_REQUIRE(!later);
  BOOST_TEST(code_of(later.error()) == errc::storage_failed);
  BOOST_TEST(to_string(later.error()).find("from event 'e10'") != std::string::npos,
             to_string(later.error()));
  BOOST_TEST(store->head() == 10u);
  // Another publisher is not held.
  BOOST_TEST(static_cast<bool>(publish_to(durable, events(0, 2, {"A"}, 3, "other-"))));
  // A later event redelivered ahead of the failed one is no resend.
  auto ahead = events(15, 1, {"A"});
  auto resent = events(10, 5, {"A"});
  ahead.insert(ahead.end(), resent.begin(), resent.end());
  BOOST_TEST(!static_cast<bool>(publish_as_self(durable, ahead)));
  // The resend, from events the log holds already; then the rest.
  auto again = publish_as_self(durable, events(5, 10, {"A"}));
  BOOST_REQUIRE(again);
  BOOST_TEST(again->outcomes[4].duplicate);
  BOOST_TEST(again->outcomes[5].id == "e10");
  BOOST_TEST(again->outcomes[5].seq == 13u);
  auto rest = publish_as_self(durable, events(15, 5, {"A"}));
  BOOST_REQUIRE(rest);
  BOOST_TEST(rest->outcomes.front().seq == 18u);
  self->send_exit(durable, caf::exit_reason::user_shutdown);
  run();
}

// A failed publish may begin with a redelivery of a logged event: its
// resend begins so too.
BOOST_AUTO_TEST_CASE(a_resend_may_begin_with_a_redelivery) {
  std::shared_ptr<sqlite_log> store;
  auto durable = spawn_durable_bus(store);
  BOOST_REQUIRE(publish_as_self(durable, events(0, 10, {"A"})));
  auto batch = events(3, 1, {"A"});
  auto fresh = events(10, 5, {"A"});
  batch.insert(batch.end(), fresh.begin(), fresh.end());
  faults.arm(fault_kind::disk_full, "-wal");
  BOOST_REQUIRE(!publish_as_self(durable, batch));
  faults.disarm();
  auto again = publish_as_self(durable, batch);
  BOOST_REQUIRE(again);
  BOOST_TEST(again->outcomes[0].duplicate);
  BOOST_TEST(again->outcomes[1].seq == 11u);
  self->send_exit(durable, caf::exit_reason::user_shutdown);
  run();
}

// A publisher whose publishes stand alone (publish_order::any, as the
// command handler's) is not held by its failure.
BOOST_AUTO_TEST_CASE(a_publisher_in_any_order_is_not_held) {
  std::shared_ptr<sqlite_log> store;
  auto durable = spawn_durable_bus(store);
  faults.arm(fault_kind::disk_full, "-wal");
  BOOST_REQUIRE(!publish_as_self(durable, events(0, 5, {"A"}), publish_order::any));
  faults.disarm();
  auto next = publish_as_self(durable, events(5, 5, {"A"}), publish_order::any);
  BOOST_REQUIRE(next);
  BOOST_TEST(next->outcomes.front().seq == 1u);
  self->send_exit(durable, caf::exit_reason::user_shutdown);
  run();
}

BOOST_AUTO_TEST_SUITE_END()
