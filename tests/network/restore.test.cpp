// Projectors restoring their snapshots on real threads: the restores run
// off the CAF workers, so that with a restore for every worker the
// supervisor still answers status ("restoring") and queries (refused)
// rather than nothing, then serves the restored models; a projector killed
// mid-restore has its helper give up; a restore that throws gives its slot
// back.

#include <boost/test/unit_test.hpp>

#include <caf/all.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "bus/actors/bus_actor.hpp"
#include "bus/actors/init.hpp"
#include "bus/actors/projector.hpp"
#include "bus/actors/supervisor.hpp"
#include "bus/document_model.hpp"
#include "bus/errc.hpp"
#include "bus/forwarding_model.hpp"
#include "bus/memory_log.hpp"
#include "bus/restore_progress.hpp"
#include "bus/snapshot_store.hpp"
#include "support/added_log.hpp"
#include "support/gate.hpp"
#include "support/keyed_docs.hpp"
#include "support/scratch_dir.hpp"
#include "support/sum_model.hpp"

using namespace bus::actors;
using namespace std::chrono_literals;

namespace {

// Sums payload.n per payload.k; its restore waits at the gate.
class gated_sums final : public bus::test::payload_sums {
public:
  gated_sums(std::string name, std::shared_ptr<bus::test::gate> gate)
    : payload_sums(std::move(name), {"Added"}), gate_(std::move(gate)) {}
  bool restore(const boost::json::value& state) override {
    gate_->wait();
    return payload_sums::restore(state);
  }

private:
  std::shared_ptr<bus::test::gate> gate_;
};

// Sums payload.n per payload.k; its restore throws.
class unreadable_sums final : public bus::test::payload_sums {
public:
  unreadable_sums() : payload_sums("sums", {"Added"}) {}
  bool restore(const boost::json::value&) override {
    throw std::runtime_error("snapshot of an older schema");
  }
};

// Documents keyed by payload.k, which "Added" merges; the first row it
// restores waits at the gate. It counts its live instances.
class gated_docs final : public bus::forwarding_model {
public:
  gated_docs(std::shared_ptr<bus::test::gate> gate,
             std::shared_ptr<std::atomic<int>> alive)
    : forwarding_model(std::make_unique<bus::document_model>(added_docs_config())),
      gate_(std::move(gate)),
      alive_(std::move(alive)) {
    ++*alive_;
  }
  ~gated_docs() override { --*alive_; }

  static bus::document_model_config added_docs_config() {
    auto cfg = bus::test::keyed_docs_config();
    cfg.merge_on = {"Added"};
    return cfg;
  }

  bool restore_row(std::string_view key, const boost::json::value& value) override {
    if (!waited_) {
      waited_ = true;
      gate_->wait();
    }
    return forwarding_model::restore_row(key, value);
  }

private:
  std::shared_ptr<bus::test::gate> gate_;
  std::shared_ptr<std::atomic<int>> alive_;
  bool waited_ = false;
};

// Two workers (one restore each, were they on them), and CAF kept quiet.
void two_workers(caf::actor_system_config& cfg) {
  bus::init(cfg);
  cfg.set("scheduler.max-threads", std::size_t{2});
  cfg.set("logger.verbosity", caf::atom("quiet"));
}

// Asks `dest`: its answer, or an error after `limit`.
template <class T, class Handle, class... Ts>
caf::expected<T> ask(caf::actor_system& sys, const Handle& dest, caf::timespan limit,
                     Ts... xs) {
  caf::scoped_actor self{sys};
  caf::expected<T> result{caf::error{}};
  self->request(dest, limit, xs...)
    .receive([&](T& x) { result = std::move(x); },
             [&](caf::error& err) { result = std::move(err); });
  return result;
}

// A node of two workers with two gated models, snapshotted every 10 events.
struct node {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  bus_actor bus;
  supervisor_actor sup;

  node(std::shared_ptr<bus::memory_log> log, const std::string& snapshots,
       std::shared_ptr<bus::test::gate> gate) {
    two_workers(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
    bus = spawn_bus(*sys, std::move(log), bus_options{});
    std::vector<bus::model_spec> models;
    for (auto name : {"left", "right"})
      models.push_back(bus::model_spec{
        name, [name, gate] { return std::make_unique<gated_sums>(name, gate); }});
    projector_options opts;
    opts.snapshot_path = snapshots;
    opts.snapshot_every = 10;
    sup = spawn_supervisor(*sys, bus, models, bus::supervision_policy{}, opts);
  }

  ~node() {
    caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(bus, caf::exit_reason::user_shutdown);
  }

  // The models' statuses, or an error after `limit`.
  caf::expected<std::vector<projector_status>> ask(status_atom, caf::timespan limit) {
    return ask_sup<std::vector<projector_status>>(limit, status_atom::value);
  }

  template <class T, class... Ts>
  caf::expected<T> ask_sup(caf::timespan limit, Ts... xs) {
    return ::ask<T>(*sys, sup, limit, xs...);
  }
};

// Waits (at most 30 s) until `x` holds.
template <class F>
bool eventually(F x) {
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!x() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  return x();
}

// True once the snapshot store at `path` holds a snapshot of `model` at
// `checkpoint`: a stopped projector's writer may still be writing its last.
bool snapshot_at(const std::string& path, const std::string& model,
                 std::uint64_t checkpoint) {
  auto store = bus::snapshot_store::open(path);
  if (!store)
    return false;
  auto loaded = (*store)->load(model);
  return loaded && loaded->has_value() && (**loaded).checkpoint == checkpoint;
}

// A system of two workers whose projectors snapshot into a scratch dir;
// start() brings its bus. Its configuration is set before the system is
// built (a base, so that it comes first).
struct two_worker_config {
  caf::actor_system_config cfg;
  two_worker_config() { two_workers(cfg); }
};

struct restore_fixture : two_worker_config {
  bus::test::scratch_dir dir{"bus-restore-test-"};
  caf::actor_system sys{cfg};
  bus_actor bus;
  projector_options opts;
  caf::scoped_actor self{sys};

  ~restore_fixture() {
    if (bus)
      caf::anon_send_exit(bus, caf::exit_reason::user_shutdown);
  }

  // Spawns the bus over `log`; projectors snapshot every `snapshot_every`
  // events.
  void start(std::shared_ptr<bus::memory_log> log, std::uint64_t snapshot_every) {
    bus = spawn_bus(sys, std::move(log), bus_options{});
    opts.snapshot_path = dir.file("bus.db.snapshots");
    opts.snapshot_every = snapshot_every;
  }

  // Stops `p` with `why`; true once it is down (within 30 s).
  bool stop(const projector_actor& p,
            caf::exit_reason why = caf::exit_reason::user_shutdown) {
    self->monitor(p);
    self->send_exit(p, why);
    bool down = false;
    self->receive([&](caf::down_msg&) { down = true; },
                  caf::after(std::chrono::seconds{30}) >> [] {});
    return down;
  }
};

} // namespace

BOOST_AUTO_TEST_SUITE(projector_restore_multithread)

BOOST_AUTO_TEST_CASE(a_node_restoring_on_every_worker_still_answers) {
  bus::test::scratch_dir dir{"bus-restore-test-"};
  auto snapshots = dir.file("bus.db.snapshots");
  auto log = bus::test::added_log(50, 3);
  {
    // The first run: catches up and leaves snapshots at 50 on its way out.
    auto open = std::make_shared<bus::test::gate>();
    open->release();
    node first{log, snapshots, open};
    auto ready = first.ask_sup<std::vector<projector_status>>(std::chrono::seconds{30},
                                                              ready_atom::value);
    BOOST_REQUIRE(ready);
  }
  auto gate = std::make_shared<bus::test::gate>();
  node second{log, snapshots, gate};
  // Both restores wait at the gate: one for each worker, were they there.
  BOOST_REQUIRE(eventually([&] { return gate->waiting.load() == 2; }));
  auto status = second.ask(status_atom::value, std::chrono::seconds{10});
  BOOST_REQUIRE(status);
  BOOST_REQUIRE(status->size() == 2u);
  for (auto& m : *status)
    BOOST_TEST((m.state == model_state::restoring), m.model);
  auto refused = second.ask_sup<query_result>(std::chrono::seconds{10},
                                              query_atom::value, std::string{"left"},
                                              std::string{"k1"});
  BOOST_REQUIRE(!refused);
  BOOST_TEST((bus::code_of(refused.error()) == bus::errc::model_unavailable));
  BOOST_TEST(bus::context_of(refused.error()).find("restoring") != std::string::npos,
             bus::context_of(refused.error()));
  gate->release();
  auto ready = second.ask_sup<std::vector<projector_status>>(std::chrono::seconds{30},
                                                             ready_atom::value);
  BOOST_REQUIRE(ready);
  for (auto& m : *ready) {
    BOOST_TEST((m.state == model_state::running), m.model);
    BOOST_TEST(m.checkpoint == 50u);
    BOOST_TEST(m.replayed == 0u); // from the snapshots, not the log
  }
  auto answer = second.ask_sup<query_result>(std::chrono::seconds{10},
                                             query_atom::value, std::string{"right"},
                                             std::string{"k1"});
  BOOST_REQUIRE(answer);
  BOOST_TEST(answer->value == boost::json::value(17)); // e1, e4, ..., e49
}

BOOST_FIXTURE_TEST_CASE(a_projector_killed_mid_restore_has_its_helper_give_up,
                        restore_fixture) {
  // A kill runs no handler, but the projector's state still goes: its
  // helper learns that nobody waits for the restore and stops at its next
  // count of rows, rather than load the whole model (and hold it and a
  // restore slot) beside the replacement's restore.
  constexpr std::size_t rows = 3 * bus::restore_progress::rows_per_update;
  start(bus::test::added_log(rows, rows), 1000);
  auto restores = std::make_shared<bus::restore_progress>();
  opts.restores = restores;
  auto alive = std::make_shared<std::atomic<int>>(0);
  auto gate = std::make_shared<bus::test::gate>();
  bus::model_spec spec{"docs", [gate, alive] {
                         return std::make_unique<gated_docs>(gate, alive);
                       }};
  auto status_of = [&](const projector_actor& p) {
    return ask<projector_status>(sys, p, std::chrono::seconds{10}, status_atom::value);
  };
  // The first run catches up from the log and leaves a rows snapshot of
  // every key on its way out.
  auto first = spawn_projector(sys, bus, spec, opts);
  BOOST_REQUIRE(eventually([&] {
    auto st = status_of(first);
    return st && st->checkpoint == rows;
  }));
  BOOST_REQUIRE(stop(first, caf::exit_reason::user_shutdown));
  BOOST_REQUIRE(
    eventually([&] { return snapshot_at(opts.snapshot_path, "docs", rows); }));
  BOOST_REQUIRE(alive->load() == 0);
  // The second restores; its first row waits at the gate until it is dead.
  auto second = spawn_projector(sys, bus, spec, opts);
  BOOST_REQUIRE(eventually([&] { return gate->waiting.load() == 1; }));
  BOOST_REQUIRE(stop(second, caf::exit_reason::kill));
  gate->release();
  BOOST_REQUIRE(eventually([&] { return alive->load() == 0; })); // helper done
  BOOST_TEST(restores->rows.load() <= bus::restore_progress::rows_per_update);
  // A projector started now restores everything.
  auto third = spawn_projector(sys, bus, spec, opts);
  BOOST_REQUIRE(eventually([&] {
    auto st = status_of(third);
    return st && st->state == model_state::running;
  }));
  auto st = status_of(third);
  BOOST_REQUIRE(st);
  BOOST_TEST(st->restored_rows == rows);
  BOOST_TEST(st->replayed == 0u);
  BOOST_TEST(st->checkpoint == rows);
  BOOST_REQUIRE(stop(third, caf::exit_reason::user_shutdown));
}

BOOST_FIXTURE_TEST_CASE(restores_that_throw_give_their_slots_back, restore_fixture) {
  // Restores take one of a slot per core, process-wide: a restore that
  // threw used to keep its slot (and its projector "restoring"), and once
  // every slot was taken no projector of the process restored any more.
  start(bus::test::added_log(20, 3), 10);
  bus::model_spec sums{"sums", [] {
                         return std::make_unique<bus::test::payload_sums>(
                           "sums", std::vector<std::string>{"Added"});
                       }};
  bus::model_spec unreadable{"sums",
                             [] { return std::make_unique<unreadable_sums>(); }};
  auto ready = [&](const projector_actor& p) {
    return ask<projector_status>(sys, p, std::chrono::seconds{20}, ready_atom::value);
  };
  // A snapshot at 20 to restore, then more throwing restores than slots,
  // one after the other: each is rebuilt from the log.
  auto first = spawn_projector(sys, bus, sums, opts);
  BOOST_REQUIRE(ready(first));
  BOOST_REQUIRE(stop(first));
  // Its writer outlives it: a projector that claims the model before the
  // last snapshot is written supersedes that write, and would find none.
  BOOST_REQUIRE(
    eventually([&] { return snapshot_at(opts.snapshot_path, "sums", 20); }));
  auto slots = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i <= slots; ++i) {
    auto p = spawn_projector(sys, bus, unreadable, opts);
    auto st = ready(p);
    BOOST_REQUIRE_MESSAGE(st, "restore " << i << " of a model that throws");
    BOOST_TEST(st->checkpoint == 20u);
    BOOST_TEST(st->replayed == 20u);
    BOOST_REQUIRE(stop(p));
  }
  // A model that reads its snapshot still gets a slot.
  auto last = spawn_projector(sys, bus, sums, opts);
  auto st = ready(last);
  BOOST_REQUIRE(st);
  BOOST_TEST(st->checkpoint == 20u);
  BOOST_TEST(st->replayed == 0u);
  BOOST_REQUIRE(stop(last));
}

BOOST_AUTO_TEST_SUITE_END()
