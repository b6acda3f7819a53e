// Projectors restoring their snapshots on real threads: the restores run
// off the CAF workers, so that with a restore for every worker the
// supervisor still answers status ("restoring") and queries (refused)
// rather than nothing, then serves the restored models.

#include <boost/test/unit_test.hpp>

#include <caf/all.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include "bus/actors/bus_actor.hpp"
#include "bus/actors/init.hpp"
#include "bus/actors/supervisor.hpp"
#include "bus/errc.hpp"
#include "bus/memory_log.hpp"
#include "support/sum_model.hpp"

using namespace bus::actors;
using namespace std::chrono_literals;

namespace {

// Every restore waits here until it opens (at most 30 s, so that a broken
// build fails rather than hangs).
struct restore_gate {
  std::mutex mtx;
  std::condition_variable cv;
  bool open = false;
  std::atomic<int> waiting{0};

  void wait() {
    ++waiting;
    std::unique_lock<std::mutex> lock{mtx};
    cv.wait_for(lock, 30s, [this] { return open; });
  }

  void release() {
    {
      std::lock_guard<std::mutex> lock{mtx};
      open = true;
    }
    cv.notify_all();
  }
};

// Sums payload.n per payload.k; its restore waits at the gate.
class gated_sums final : public bus::test::sum_model {
public:
  gated_sums(std::string name, std::shared_ptr<restore_gate> gate)
    : name_(std::move(name)), gate_(std::move(gate)) {}
  const std::string& name() const noexcept override { return name_; }
  const std::vector<std::string>& event_types() const noexcept override {
    return types_;
  }
  bool apply(const bus::event& e) override {
    add(e.payload.at("k").as_string(), e.payload.at("n").as_int64());
    return true;
  }
  bool restore(const boost::json::value& state) override {
    gate_->wait();
    return sum_model::restore(state);
  }

private:
  std::string name_;
  std::shared_ptr<restore_gate> gate_;
  std::vector<std::string> types_{"Added"};
};

std::shared_ptr<bus::memory_log> log_of(std::size_t n) {
  auto log = std::make_shared<bus::memory_log>();
  std::vector<bus::event> events;
  for (std::size_t i = 1; i <= n; ++i) {
    bus::event e;
    e.id = "e" + std::to_string(i);
    e.type = "Added";
    e.payload = {{"k", "k" + std::to_string(i % 3)}, {"n", 1}};
    events.push_back(std::move(e));
  }
  log->append(std::move(events));
  return log;
}

struct scratch_dir {
  std::filesystem::path path;
  scratch_dir() {
    std::random_device rd;
    path = std::filesystem::temp_directory_path()
           / ("bus-restore-test-" + std::to_string(rd()));
    std::filesystem::create_directories(path);
  }
  ~scratch_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

// A node of two workers with two gated models, snapshotted every 10 events.
struct node {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  bus_actor bus;
  supervisor_actor sup;

  node(std::shared_ptr<bus::memory_log> log, const std::string& snapshots,
       std::shared_ptr<restore_gate> gate) {
    bus::init(cfg);
    cfg.set("scheduler.max-threads", std::size_t{2});
    cfg.set("logger.verbosity", caf::atom("quiet"));
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
    caf::scoped_actor self{*sys};
    caf::expected<T> result{caf::error{}};
    self->request(sup, limit, xs...)
      .receive([&](T& x) { result = std::move(x); },
               [&](caf::error& err) { result = std::move(err); });
    return result;
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

} // namespace

BOOST_AUTO_TEST_SUITE(projector_restore_multithread)

BOOST_AUTO_TEST_CASE(a_node_restoring_on_every_worker_still_answers) {
  scratch_dir dir;
  auto snapshots = (dir.path / "bus.db.snapshots").string();
  auto log = log_of(50);
  {
    // The first run: catches up and leaves snapshots at 50 on its way out.
    auto open = std::make_shared<restore_gate>();
    open->release();
    node first{log, snapshots, open};
    auto ready = first.ask_sup<std::vector<projector_status>>(std::chrono::seconds{30},
                                                              ready_atom::value);
    BOOST_REQUIRE(ready);
  }
  auto gate = std::make_shared<restore_gate>();
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

BOOST_AUTO_TEST_SUITE_END()
