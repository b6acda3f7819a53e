// A projector's restore at start runs off the CAF workers (restore_job.hpp):
// under the testing scheduler its helper is a job of its own, which these
// tests hold back to look at the projector while it restores. It answers
// status and queries, keeps every other request until done and then
// handles them in order; killed meanwhile, it leaves its helper a model to
// finish with, and a helper whose projector is gone restores nothing. A
// model whose restore throws is rebuilt from the log, as one whose restore
// returns false.

#include "bus/actors/projector.hpp"

#include <algorithm>
#include <atomic>
#include <memory>
#include <optional>
#include <stdexcept>

#include "bus/document_model.hpp"
#include "bus/errc.hpp"
#include "bus/forwarding_model.hpp"
#include "bus/restore_progress.hpp"
#include "bus/snapshot_store.hpp"
#include "internal/restore_job.hpp"
#include "support/bus_fixture.hpp"
#include "support/keyed_docs.hpp"
#include "support/sqlite_scratch.hpp"
#include "support/stdout_capture.hpp"
#include "support/sum_model.hpp"

using namespace bus;
using namespace bus::actors;
using namespace bus::test;

namespace {

// Sums payload.n per payload.k, counting its live instances.
class counted_sums final : public payload_sums {
public:
  explicit counted_sums(std::shared_ptr<std::atomic<int>> alive)
    : payload_sums("sums", {"A"}), alive_(std::move(alive)) {
    ++*alive_;
  }
  ~counted_sums() override { --*alive_; }

private:
  std::shared_ptr<std::atomic<int>> alive_;
};

// The documents of keyed_docs, whose restore throws (a snapshot of a schema
// it no longer reads), whole or row by row; `broken_reset` breaks reset too.
class unreadable_docs final : public forwarding_model {
public:
  explicit unreadable_docs(bool broken_reset = false)
    : forwarding_model(std::make_unique<document_model>(keyed_docs_config())),
      broken_reset_(broken_reset) {}
  bool restore(const boost::json::value&) override {
    throw std::runtime_error("snapshot of an older schema");
  }
  bool restore_row(std::string_view, const boost::json::value&) override {
    throw std::runtime_error("row of an older schema");
  }
  void reset() override {
    if (broken_reset_)
      throw std::runtime_error("cannot reset");
    forwarding_model::reset();
  }

private:
  bool broken_reset_;
};

model_spec unreadable(model_storage storage = model_storage::memory,
                      bool broken_reset = false) {
  return model_spec{
    "docs", [broken_reset] { return std::make_unique<unreadable_docs>(broken_reset); },
    storage};
}

bool is_restore_helper(caf::resumable* job) {
  auto* a = dynamic_cast<caf::scheduled_actor*>(job);
  return a != nullptr && std::string{a->name()} == internal::restore_helper_name;
}

struct restore_fixture : bus_fixture {
  sqlite_scratch db{"bus-projector-restore-", "bus.db.snapshots"};
  sqlite_scratch models{"bus-projector-restore-", "bus.db.models"};

  projector_options options() {
    auto result = replaying(16);
    result.snapshot_path = db.path;
    result.snapshot_every = 5;
    result.models_path = models.path;
    return result;
  }

  projector_actor start(model_spec spec) {
    auto p = bus::actors::spawn_projector(sys, bus, std::move(spec), options());
    run();
    return p;
  }

  /// A projector whose restore is held back: its helper has not run.
  projector_actor start_restoring(model_spec spec, projector_options opts) {
    auto p = bus::actors::spawn_projector(sys, bus, std::move(spec), std::move(opts));
    run_but_restores();
    BOOST_REQUIRE(restore_pending());
    return p;
  }

  void exit(const projector_actor& p, caf::exit_reason why) {
    self->send_exit(p, why);
    run();
  }

  /// Runs every job but the restore helpers.
  void run_but_restores() {
    sched.run_jobs_filtered(
      [](caf::resumable* job) { return !is_restore_helper(job); });
  }

  /// Runs the restore helper spawned last, ahead of the others.
  void run_newest_restore() {
    auto id_of = [](caf::resumable* job) {
      return dynamic_cast<caf::scheduled_actor*>(job)->id();
    };
    auto& jobs = sched.jobs;
    auto newest = jobs.end();
    for (auto i = jobs.begin(); i != jobs.end(); ++i)
      if (is_restore_helper(*i) && (newest == jobs.end() || id_of(*i) > id_of(*newest)))
        newest = i;
    BOOST_REQUIRE(newest != jobs.end());
    std::rotate(jobs.begin(), newest, newest + 1);
    sched.run_once();
  }

  bool restore_pending() {
    return std::any_of(sched.jobs.begin(), sched.jobs.end(), is_restore_helper);
  }

  /// Sends a request and runs every job but the restore helpers: the
  /// answer, or none yet.
  template <class T, class Handle, class... Ts>
  std::shared_ptr<std::optional<caf::expected<T>>> request(const Handle& dest,
                                                           Ts... xs) {
    auto result = send_request<T>(dest, xs...);
    run_but_restores();
    return result;
  }

  /// Events A (merges) and B (deletes) over `keys` keys, a snapshot after
  /// each fifth, then a crash: the store holds what a restart restores.
  void stored_docs(std::size_t n, std::size_t key_count,
                   model_storage storage = model_storage::memory) {
    auto first = start(keyed_docs(storage));
    for (std::size_t i = 0; i < n; i += 5)
      publish(events(i, std::min<std::size_t>(5, n - i), {"A", "A", "B"}, key_count));
    exit(first, caf::exit_reason::kill);
  }

  std::uint64_t stored_checkpoint(const std::string& model) {
    auto store = snapshot_store::open(db.path);
    BOOST_REQUIRE(store);
    auto loaded = (*store)->load(model);
    BOOST_REQUIRE(loaded);
    BOOST_REQUIRE(loaded->has_value());
    return (**loaded).checkpoint;
  }

  boost::json::value folded_docs() {
    document_model m{keyed_docs_config()};
    for (auto& e : whole_log())
      m.apply(e);
    return m.snapshot();
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(projector_restore, restore_fixture)

BOOST_AUTO_TEST_CASE(a_restoring_projector_answers_status_and_refuses_queries) {
  stored_docs(23, 4);
  auto p = start_restoring(keyed_docs(), options());
  auto status = request<projector_status>(p, status_atom::value);
  BOOST_REQUIRE(status->has_value());
  BOOST_REQUIRE(**status);
  BOOST_TEST((***status).model == "docs");
  BOOST_TEST(((***status).state == model_state::restoring));
  BOOST_TEST((***status).restored_rows == 0u);
  auto query = request<query_result>(p, query_atom::value, std::string{"key0"});
  BOOST_REQUIRE(query->has_value());
  BOOST_REQUIRE(!**query);
  BOOST_TEST((code_of((**query).error()) == errc::model_unavailable));
  BOOST_TEST(context_of((**query).error()).find("is restoring its snapshot")
               != std::string::npos,
             context_of((**query).error()));
  run(); // the helper restores
  BOOST_TEST(!restore_pending());
  auto after = ask<projector_status>(p, status_atom::value);
  BOOST_REQUIRE(after);
  BOOST_TEST((after->state == model_state::running));
  BOOST_TEST(after->checkpoint == 23u);
  BOOST_TEST(after->replayed == 3u); // from the snapshot at 20
  BOOST_TEST(after->restored_rows > 0u);
  BOOST_TEST(snapshot_of(p) == folded_docs());
  exit(p, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_CASE(requests_wait_for_the_restore_and_keep_their_order) {
  stored_docs(23, 4);
  auto p = start_restoring(keyed_docs(), options());
  auto snapshot = request<model_snapshot>(p, snapshot_atom::value);
  auto paused = request<projector_status>(p, pause_atom::value);
  auto resumed = request<projector_status>(p, resume_atom::value);
  auto ready = request<projector_status>(p, ready_atom::value);
  // Nothing answered while the model is the helper's.
  BOOST_TEST(!snapshot->has_value());
  BOOST_TEST(!paused->has_value());
  BOOST_TEST(!resumed->has_value());
  BOOST_TEST(!ready->has_value());
  run();
  BOOST_REQUIRE(snapshot->has_value());
  BOOST_REQUIRE(**snapshot);
  // Taken first, right after the restore: the snapshot's state at 20.
  BOOST_TEST((***snapshot).checkpoint == 20u);
  BOOST_REQUIRE(paused->has_value());
  BOOST_REQUIRE(**paused);
  BOOST_TEST(((***paused).state == model_state::paused));
  // The resume after the pause: running again, not left paused.
  BOOST_REQUIRE(resumed->has_value());
  BOOST_REQUIRE(**resumed);
  BOOST_TEST(((***resumed).state == model_state::running));
  BOOST_REQUIRE(ready->has_value());
  BOOST_REQUIRE(**ready);
  BOOST_TEST(((***ready).state == model_state::running));
  BOOST_TEST((***ready).checkpoint == 23u);
  BOOST_TEST(snapshot_of(p) == folded_docs());
  exit(p, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_CASE(a_projector_killed_while_restoring_leaves_its_helper_the_model) {
  // A kill runs no handler: the model must not live in the projector's
  // state, which goes with it, while the helper restores into it.
  auto alive = std::make_shared<std::atomic<int>>(0);
  auto spec = model_spec{"sums",
                         [alive] { return std::make_unique<counted_sums>(alive); }};
  auto first = start(spec);
  publish(events(0, 12, {"A"}, 4));
  exit(first, caf::exit_reason::user_shutdown); // a last snapshot, whole
  BOOST_REQUIRE(alive->load() == 0);
  auto p = start_restoring(spec, options());
  self->send_exit(p, caf::exit_reason::kill);
  run_but_restores();
  BOOST_TEST(alive->load() == 1); // the helper's still
  // Its replacement restores first; the killed one's restore, after it,
  // must not claim the model's snapshots from the replacement.
  auto next = start_restoring(spec, options());
  run_newest_restore();
  run();
  BOOST_TEST(alive->load() == 1); // the killed one's freed, once done with
  auto st = ask<projector_status>(next, status_atom::value);
  BOOST_REQUIRE(st);
  BOOST_TEST(st->checkpoint == 12u);
  BOOST_TEST(st->replayed == 0u);
  publish(events(12, 10, {"A"}, 4));
  exit(next, caf::exit_reason::user_shutdown);
  BOOST_TEST(alive->load() == 0);
  BOOST_TEST(stored_checkpoint("sums") == 22u); // its snapshots were written
}

BOOST_AUTO_TEST_CASE(a_projector_stopped_before_its_restore_began_restores_nothing) {
  // A shutdown does not wait for the restore of a large model: a helper
  // whose projector is gone restores nothing, and one under way stops at
  // its next count of rows (snapshot_rows/restore_rows_gives_up_when_told).
  constexpr std::size_t rows = 3 * restore_progress::rows_per_update;
  auto first = start(keyed_docs());
  publish(events(0, rows, {"A"}, rows));
  exit(first, caf::exit_reason::user_shutdown);
  auto restores = std::make_shared<restore_progress>();
  auto opts = options();
  opts.restores = restores;
  auto p = start_restoring(keyed_docs(), opts);
  self->send_exit(p, caf::exit_reason::user_shutdown);
  run_but_restores();
  run();
  BOOST_TEST(restores->rows.load() == 0u);
  BOOST_TEST(restores->models.load() == 0u);
  // Undisturbed, the same restore takes every row.
  auto next = start(keyed_docs());
  auto st = ask<projector_status>(next, status_atom::value);
  BOOST_REQUIRE(st);
  BOOST_TEST(st->restored_rows == rows);
  BOOST_TEST(st->replayed == 0u);
  exit(next, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_CASE(a_table_model_restores_off_the_workers_too) {
  stored_docs(23, 4, model_storage::sqlite);
  auto p = start_restoring(keyed_docs(model_storage::sqlite), options());
  auto status = request<projector_status>(p, status_atom::value);
  BOOST_REQUIRE(status->has_value());
  BOOST_REQUIRE(**status);
  BOOST_TEST(((***status).state == model_state::restoring));
  auto query = request<query_result>(p, query_atom::value, std::string{"key0"});
  BOOST_REQUIRE(query->has_value());
  BOOST_REQUIRE(!**query);
  BOOST_TEST(context_of((**query).error()).find("is restoring its table")
               != std::string::npos,
             context_of((**query).error()));
  run();
  auto after = ask<projector_status>(p, status_atom::value);
  BOOST_REQUIRE(after);
  BOOST_TEST((after->state == model_state::running));
  BOOST_TEST(after->checkpoint == 23u);
  BOOST_TEST(after->replayed == 0u); // every commit is in the table
  BOOST_TEST(after->restored_rows > 0u);
  BOOST_TEST(snapshot_of(p) == folded_docs());
  exit(p, caf::exit_reason::user_shutdown);
}

// A restore that throws is the model saying it cannot take that state, as a
// false would: it is rebuilt from the log, and its helper always reports
// back (it used to die with the exception, leaving it restoring for good).
BOOST_AUTO_TEST_CASE(a_model_whose_restore_throws_is_rebuilt_from_the_log) {
  stored_docs(23, 4);
  stdout_capture out;
  auto p = start(unreadable());
  BOOST_TEST(!restore_pending());
  auto st = ask<projector_status>(p, status_atom::value);
  BOOST_REQUIRE(st);
  BOOST_TEST((st->state == model_state::running));
  BOOST_TEST(st->checkpoint == 23u);
  BOOST_TEST(st->replayed == 23u); // the whole log
  BOOST_TEST(snapshot_of(p) == folded_docs());
  exit(p, caf::exit_reason::user_shutdown);
  BOOST_TEST(out.text.str() == "");
}

BOOST_AUTO_TEST_CASE(a_table_model_whose_restore_throws_is_rebuilt_from_the_log) {
  stored_docs(23, 4, model_storage::sqlite);
  auto p = start(unreadable(model_storage::sqlite));
  BOOST_TEST(!restore_pending());
  auto st = ask<projector_status>(p, status_atom::value);
  BOOST_REQUIRE(st);
  BOOST_TEST((st->state == model_state::running));
  BOOST_TEST(st->checkpoint == 23u);
  BOOST_TEST(st->replayed == 23u);
  BOOST_TEST(snapshot_of(p) == folded_docs());
  exit(p, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_CASE(a_model_that_cannot_reset_after_a_throwing_restore_fails) {
  // Its state is then unknown: the projector fails, naming why, and its
  // supervisor starts a fresh model.
  stored_docs(23, 4);
  auto p = start_restoring(unreadable(model_storage::memory, true), options());
  self->monitor(p);
  run();
  expect_down(errc::apply_failed, {"cannot reset"});
}

BOOST_AUTO_TEST_SUITE_END()
