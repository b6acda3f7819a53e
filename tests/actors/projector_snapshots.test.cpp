// Snapshots of projectors (projector_options::snapshot_path): a model that
// tracks its changes is snapshotted by the rows it changed, appended to
// the stored ones; other models whole. Restarts restore the latest snapshot
// and pull only the events after it; a projector that another one has
// claimed the model from writes no more; a failed write leaves the
// projector running, and its next snapshot is whole.

#include "bus/actors/projector.hpp"

#include <algorithm>

#include "bus/document_model.hpp"
#include "bus/errc.hpp"
#include "bus/restore_progress.hpp"
#include "bus/snapshot_rows.hpp"
#include "bus/snapshot_store.hpp"
#include "internal/projector_state.hpp"
#include "internal/snapshot_writer.hpp"
#include "support/bus_fixture.hpp"
#include "support/keyed_docs.hpp"
#include "support/sqlite_scratch.hpp"
#include "support/sum_model.hpp"

using namespace bus;
using namespace bus::actors;
using namespace bus::test;

namespace {

// Sums payload.n per payload.k: a C++ model that does not track changes.
model_spec sums_spec() {
  return model_spec{
    "sums", [] {
      return std::make_unique<payload_sums>("sums", std::vector<std::string>{"A", "B"});
    }};
}

struct snapshots_fixture : bus_fixture {
  sqlite_scratch db{"bus-projector-snapshots-", "bus.db.snapshots"};

  projector_options options(std::uint64_t every) {
    auto result = replaying(16);
    result.snapshot_path = db.path;
    result.snapshot_every = every;
    return result;
  }

  projector_actor start(model_spec spec, std::uint64_t every) {
    auto p = bus::actors::spawn_projector(sys, bus, std::move(spec), options(every));
    run();
    return p;
  }

  void stop(const projector_actor& p) {
    self->send_exit(p, caf::exit_reason::user_shutdown);
    run();
  }

  /// Kills `p`: no last snapshot on its way out, as in a crash.
  void crash(const projector_actor& p) {
    self->send_exit(p, caf::exit_reason::kill);
    run();
  }

  projector_status status(const projector_actor& p) {
    auto result = ask<projector_status>(p, status_atom::value);
    BOOST_REQUIRE(result);
    return *result;
  }

  /// Publishes `events` one per batch: a snapshot may follow each.
  void publish_each(const std::vector<event>& xs) {
    for (auto& e : xs)
      publish({e});
  }

  boost::json::value fold(read_model&& m) {
    for (auto& e : whole_log())
      m.apply(e);
    return m.snapshot();
  }

  /// The stored snapshot of `model`, read without claiming it.
  snapshot stored(const std::string& model) {
    auto store = snapshot_store::open(db.path);
    BOOST_REQUIRE(store);
    auto loaded = (*store)->load(model);
    BOOST_REQUIRE(loaded);
    BOOST_REQUIRE(loaded->has_value());
    return std::move(**loaded);
  }

  std::size_t parts(const std::string& model) {
    return std::stoul(
      db.select("SELECT count(*) FROM snapshot_rows WHERE model = '" + model + "'"));
  }

  /// The rows of the newest part of `model`'s rows, as JSON lines.
  std::string newest_part(const std::string& model) {
    auto text = rows_as_json(db.select("SELECT rows FROM snapshot_rows WHERE model = '"
                                       + model + "' ORDER BY part DESC LIMIT 1"));
    BOOST_REQUIRE(text);
    return *text;
  }
};

std::size_t lines(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(projector_snapshots, snapshots_fixture)

BOOST_AUTO_TEST_CASE(a_tracking_model_is_snapshotted_by_the_rows_it_changed) {
  auto p = start(keyed_docs(), 5);
  publish_each(events(0, 5, {"A"}, 3)); // key0..key2: the first snapshot
  BOOST_TEST((stored("docs").layout == snapshot_layout::rows));
  BOOST_TEST(stored("docs").checkpoint == 5u);
  BOOST_TEST(parts("docs") == 1u);
  BOOST_TEST(lines(newest_part("docs")) == 3u); // one line per key
  // Five changes of one key: the next snapshot is one row.
  publish_each(events(5, 5, {"A"}, 1));
  BOOST_TEST(stored("docs").checkpoint == 10u);
  BOOST_TEST(parts("docs") == 2u);
  auto delta = newest_part("docs");
  BOOST_TEST(lines(delta) == 1u, delta);
  BOOST_TEST(delta.find("\"key0\"") != std::string::npos, delta);
  // A removal is a row too.
  publish_each(events(10, 5, {"B"}, 3));
  BOOST_TEST(newest_part("docs").find(R"(["key2"])") != std::string::npos);
  auto state = rows_state(stored("docs").state);
  BOOST_REQUIRE(state);
  BOOST_TEST(boost::json::value(*state) == fold(document_model{keyed_docs_config()}));
  stop(p);
}

BOOST_AUTO_TEST_CASE(the_rows_of_a_snapshot_go_into_the_buffer_the_writer_handed_back) {
  // Memory already mapped: a fresh buffer for every snapshot had the kernel
  // zero its pages, some 5 % of the durable node's CPU (benchmarks.md,
  // "Row buffers handed back").
  auto p = start(keyed_docs(), 5);
  publish_each(events(0, 5, {"A"}, 5));
  auto& st = state_of<projector_state>(p);
  BOOST_REQUIRE(st.spare_rows.capacity() > 0); // the first snapshot's, back
  auto* handed_back = st.spare_rows.data();
  publish_each(events(5, 5, {"A"}, 1));
  BOOST_TEST(stored("docs").checkpoint == 10u);
  BOOST_TEST((st.changes.rows().data() == handed_back));
  // The rows written are those of their own snapshot all the same.
  publish_each(events(10, 5, {"A"}, 2));
  BOOST_TEST(stored("docs").checkpoint == 15u);
  auto delta = newest_part("docs");
  BOOST_TEST(lines(delta) == 2u, delta);
  auto state = rows_state(stored("docs").state);
  BOOST_REQUIRE(state);
  BOOST_TEST(boost::json::value(*state) == fold(document_model{keyed_docs_config()}));
  stop(p);
}

BOOST_AUTO_TEST_CASE(a_projector_past_its_rows_bound_snapshots_the_keys_it_changed) {
  // A writer fallen behind leaves a projector more changed rows than its
  // bound: it then keeps the keys changed (a removed one as a short row)
  // and writes their rows with the snapshot. Bound 0: from the first row.
  auto opts = options(4);
  opts.snapshot_rows_at_most = 0;
  auto first = bus::actors::spawn_projector(sys, bus, keyed_docs(), opts);
  run();
  publish_each(events(0, 9, {"A", "A", "B"}, 4)); // merges, deletes, 4 keys
  BOOST_TEST(stored("docs").checkpoint == 8u);
  BOOST_TEST(state_of<projector_state>(first).changes.capture()
             == change_capture::keys);
  crash(first);
  auto second = start(keyed_docs(), 4);
  BOOST_TEST(status(second).replayed == 1u);
  BOOST_TEST(snapshot_of(second) == fold(document_model{keyed_docs_config()}));
  stop(second);
}

BOOST_AUTO_TEST_CASE(a_delta_whose_keys_rarely_repeat_is_stored_unfolded) {
  auto first = start(keyed_docs(), 5);
  publish_each(events(0, 5, {"A"}, 3)); // the base: key0..key2
  // Five changes of four keys (key1 twice): a fold would leave four of the
  // five lines, not worth a pass; the compaction folds them later.
  publish_each(events(5, 5, {"A"}, 4));
  BOOST_TEST(parts("docs") == 2u);
  auto delta = newest_part("docs");
  BOOST_TEST(lines(delta) == 5u, delta);
  // The later of key1's lines is its state after a restart.
  crash(first);
  auto second = start(keyed_docs(), 5);
  BOOST_TEST(status(second).replayed == 0u);
  BOOST_TEST(snapshot_of(second) == fold(document_model{keyed_docs_config()}));
  stop(second);
}

BOOST_AUTO_TEST_CASE(a_restart_restores_the_rows_and_pulls_only_the_tail) {
  auto first = start(keyed_docs(), 5);
  publish_each(events(0, 23, {"A", "A", "B"}, 4));
  crash(first);
  auto second = start(keyed_docs(), 5);
  auto st = status(second);
  BOOST_TEST(st.checkpoint == 23u);
  // From the snapshot at 20: only 21..23 come from the log.
  BOOST_TEST(st.replayed == 3u);
  BOOST_TEST(snapshot_of(second) == fold(document_model{keyed_docs_config()}));
  // It goes on with deltas after the restored rows; stopped (not killed),
  // it takes a last one on its way out.
  publish_each(events(23, 9, {"A"}, 4));
  stop(second);
  BOOST_TEST(stored("docs").checkpoint == 32u);
  auto third = start(keyed_docs(), 5);
  BOOST_TEST(status(third).replayed == 0u);
  BOOST_TEST(snapshot_of(third) == fold(document_model{keyed_docs_config()}));
  stop(third);
}

BOOST_AUTO_TEST_CASE(a_restart_counts_the_rows_it_restores) {
  // What bus-node's start-up watches while a restore keeps the projector
  // from answering (restore_progress.hpp).
  auto first = start(keyed_docs(), 5);
  publish_each(events(0, 23, {"A", "A", "B"}, 4));
  crash(first);
  auto keys = rows_state(stored("docs").state);
  BOOST_REQUIRE(keys);
  BOOST_REQUIRE(!keys->empty());
  auto restores = std::make_shared<bus::restore_progress>();
  auto opts = options(5);
  opts.restores = restores;
  auto second = bus::actors::spawn_projector(sys, bus, keyed_docs(), opts);
  run();
  BOOST_TEST(restores->rows.load() == keys->size());
  BOOST_TEST(restores->models.load() == 0u);
  BOOST_TEST(snapshot_of(second) == fold(document_model{keyed_docs_config()}));
  stop(second);
}

BOOST_AUTO_TEST_CASE(a_model_that_does_not_track_is_snapshotted_whole) {
  auto first = start(sums_spec(), 4);
  publish_each(events(0, 10, {"A", "B"}));
  BOOST_TEST((stored("sums").layout == snapshot_layout::whole));
  BOOST_TEST(stored("sums").checkpoint == 8u);
  BOOST_TEST(parts("sums") == 0u);
  crash(first);
  auto second = start(sums_spec(), 4);
  BOOST_TEST(status(second).replayed == 2u);
  BOOST_TEST(snapshot_of(second) == fold(payload_sums{"sums", {"A", "B"}}));
  stop(second);
}

BOOST_AUTO_TEST_CASE(after_a_rebuild_the_next_snapshot_is_a_new_base) {
  auto p = start(keyed_docs(), 3);
  publish_each(events(0, 9, {"A"}, 3));
  BOOST_TEST(parts("docs") == 3u); // a base and two deltas
  auto rebuilt = ask<projector_status>(p, rebuild_atom::value);
  BOOST_REQUIRE(rebuilt);
  run();
  BOOST_TEST(status(p).state == model_state::running);
  publish_each(events(9, 3, {"A"}, 3));
  // The rows recorded since the reset replaced the old ones: a base, then
  // a delta per snapshot since.
  BOOST_TEST(stored("docs").checkpoint == 12u);
  auto state = rows_state(stored("docs").state);
  BOOST_REQUIRE(state);
  BOOST_TEST(boost::json::value(*state) == fold(document_model{keyed_docs_config()}));
  stop(p);
  auto again = start(keyed_docs(), 3);
  BOOST_TEST(status(again).replayed == 0u);
  BOOST_TEST(snapshot_of(again) == fold(document_model{keyed_docs_config()}));
  stop(again);
}

BOOST_AUTO_TEST_CASE(a_projector_the_model_was_claimed_from_writes_no_more) {
  auto old = start(keyed_docs(), 2);
  publish_each(events(0, 4, {"A"}, 2));
  BOOST_TEST(stored("docs").checkpoint == 4u);
  // Another projector of the model claims its snapshots (as a restart or a
  // promoted shadow does) while the old one still runs.
  auto other = snapshot_store::open(db.path);
  BOOST_REQUIRE(other);
  auto claim = (*other)->claim("docs");
  BOOST_REQUIRE(claim);
  publish_each(events(4, 2, {"A"}, 2));
  // The old one's write was refused; it stopped taking snapshots.
  BOOST_TEST(stored("docs").checkpoint == 4u);
  auto& st = state_of<projector_state>(old);
  BOOST_TEST((st.snapshots == snapshot_basis::off));
  BOOST_TEST(!st.snapshot_writer);
  publish_each(events(6, 4, {"A"}, 2));
  BOOST_TEST(stored("docs").checkpoint == 4u);
  // It still projects and answers.
  BOOST_TEST(snapshot_of(old) == fold(document_model{keyed_docs_config()}));
  stop(old);
}

// A snapshot only saves replay at the next start: a failed one (a full
// disk) leaves the projector answering and the last snapshot stored, and
// the next one replaces the stored rows whole, for they miss the failed
// one's.
BOOST_AUTO_TEST_CASE(a_failed_write_keeps_the_projector_and_the_last_snapshot) {
  auto first = start(keyed_docs(), 3);
  publish_each(events(0, 6, {"A"}, 3));
  BOOST_TEST(stored("docs").checkpoint == 6u);
  db.sql("CREATE TRIGGER refuse BEFORE INSERT ON snapshot_rows "
         "BEGIN SELECT RAISE(ABORT, 'disk full'); END");
  publish_each(events(6, 3, {"A"}, 3));
  BOOST_TEST((status(first).state == model_state::running));
  BOOST_TEST(stored("docs").checkpoint == 6u);
  BOOST_TEST(snapshot_of(first) == fold(document_model{keyed_docs_config()}));
  db.sql("DROP TRIGGER refuse");
  publish_each(events(9, 3, {"A"}, 3));
  BOOST_TEST(stored("docs").checkpoint == 12u);
  BOOST_TEST((state_of<projector_state>(first).snapshots == snapshot_basis::delta));
  stop(first);
  auto second = start(keyed_docs(), 3);
  BOOST_TEST(status(second).replayed == 0u);
  BOOST_TEST(snapshot_of(second) == fold(document_model{keyed_docs_config()}));
  stop(second);
}

BOOST_AUTO_TEST_CASE(with_snapshot_every_0_a_projector_restores_and_writes_none) {
  auto first = start(keyed_docs(), 2);
  publish_each(events(0, 4, {"A"}, 2));
  stop(first);
  auto second = start(keyed_docs(), 0);
  BOOST_TEST(status(second).replayed == 0u);
  publish_each(events(4, 6, {"A"}, 2));
  BOOST_TEST(stored("docs").checkpoint == 4u);
  // Nothing is recorded for snapshots that never come.
  BOOST_TEST(state_of<projector_state>(second).changes.rows_bytes() == 0u);
  BOOST_TEST(snapshot_of(second) == fold(document_model{keyed_docs_config()}));
  stop(second);
}

BOOST_AUTO_TEST_CASE(the_last_snapshot_leaves_the_compaction_to_the_next_projector) {
  auto publish_in_batches = [this](std::size_t first, std::size_t n, std::size_t keys) {
    for (auto i = first; i < first + n; i += 100)
      publish(events(i, 100, {"A"}, keys));
  };
  auto first = start(keyed_docs(), 5000);
  publish_in_batches(0, 5000, 100); // the base: 100 keys
  BOOST_TEST(parts("docs") == 1u);
  // 2,500 new keys: on its way out the projector's last delta outgrows
  // the base (and 64 KiB) many times, which would make a compaction due.
  publish_in_batches(5000, 2500, 100000);
  stop(first);
  BOOST_TEST(stored("docs").checkpoint == 7500u);
  BOOST_TEST(parts("docs") == 2u); // shut down without folding them
  auto second = start(keyed_docs(), 5000);
  BOOST_TEST(status(second).replayed == 0u);
  BOOST_TEST(snapshot_of(second) == fold(document_model{keyed_docs_config()}));
  // Its first periodic snapshot compacts: a base holds them all.
  publish_in_batches(7500, 5000, 100000);
  BOOST_TEST(stored("docs").checkpoint == 12500u);
  BOOST_TEST(parts("docs") == 1u);
  BOOST_TEST(lines(newest_part("docs")) == 100u + 7500u);
  stop(second);
}

BOOST_AUTO_TEST_CASE(a_compaction_its_projector_stopped_before_is_given_up) {
  auto but_the_writer = [](caf::resumable* job) {
    auto* a = dynamic_cast<caf::scheduled_actor*>(job);
    return a == nullptr || std::string{a->name()} != snapshot_writer_state::name;
  };
  auto p = start(keyed_docs(), 5000);
  for (std::size_t i = 0; i < 5000; i += 100)
    publish(events(i, 100, {"A"}, 100)); // the base: 100 keys
  BOOST_TEST(parts("docs") == 1u);
  // 5,000 new keys, the writer held: the periodic snapshot at 10,000 waits
  // in its mailbox, and its delta would make a compaction due.
  for (std::size_t i = 5000; i < 10000; i += 100) {
    self->send(bus, publish_atom::value, events(i, 100, {"A"}, 100000),
               publish_wait::log);
    sched.run_jobs_filtered(but_the_writer);
  }
  // The projector stops before the writer gets to it.
  self->send_exit(p, caf::exit_reason::user_shutdown);
  sched.run_jobs_filtered(but_the_writer);
  run();
  // The delta written (the last snapshot adds no rows), not compacted.
  BOOST_TEST(stored("docs").checkpoint == 10000u);
  BOOST_TEST(parts("docs") == 2u);
  auto again = start(keyed_docs(), 5000);
  BOOST_TEST(status(again).replayed == 0u);
  BOOST_TEST(snapshot_of(again) == fold(document_model{keyed_docs_config()}));
  stop(again);
}

BOOST_AUTO_TEST_CASE(a_writer_whose_projector_is_gone_before_it_starts_just_quits) {
  // Found by bus-sim (seed 2953): a projector killed before its writer ran
  // for the first time left the writer monitoring an actor that no longer
  // existed, and the process crashed.
  auto but_the_writer = [](caf::resumable* job) {
    auto* a = dynamic_cast<caf::scheduled_actor*>(job);
    return a == nullptr || std::string{a->name()} != snapshot_writer_state::name;
  };
  {
    auto p = bus::actors::spawn_projector(sys, bus, keyed_docs(), options(1));
    sched.run_jobs_filtered(but_the_writer); // started, subscribed, caught up
    self->send_exit(p, caf::exit_reason::kill);
    sched.run_jobs_filtered(but_the_writer); // gone, and let go by the bus
  }
  run(); // only now does its writer run for the first time
  // The next projector of the model snapshots it as usual.
  auto again = start(keyed_docs(), 1);
  publish_each(events(0, 3, {"A"}, 2));
  BOOST_TEST(stored("docs").checkpoint == 3u);
  stop(again);
}

// lag_ms is the head's time minus the checkpoint's: a restored projector
// that applied nothing since (paused, or still catching up) must know its
// checkpoint's time, or it shows no lag in time however far behind it is.
BOOST_AUTO_TEST_CASE(a_restored_projector_knows_when_its_checkpoint_was_logged) {
  auto first = start(sums_spec(), 4);
  publish(events(0, 8, {"A"}));
  stop(first);
  auto logged = whole_log().back();
  BOOST_REQUIRE(logged.timestamp > 0);
  auto again = start(sums_spec(), 4);
  auto st = status(again);
  BOOST_TEST(st.checkpoint == 8u);
  BOOST_TEST(st.applied == 0u);
  BOOST_TEST(st.checkpoint_timestamp == logged.timestamp);
  stop(again);
}

BOOST_AUTO_TEST_SUITE_END()
