// The catch-up wait of the apps (apps/common/catch_up.hpp) on a real actor
// system: it returns once the models caught up, logs progress while they
// work, and gives up after a time without progress. Real threads and time:
// every wait is bounded, and the CTest entry has a hard limit.

#include "catch_up.hpp"

#include <boost/test/unit_test.hpp>
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <caf/all.hpp>

#include "bus/actors/bus_actor.hpp"
#include "bus/actors/init.hpp"
#include "bus/actors/supervisor.hpp"
#include "bus/log.hpp"
#include "bus/memory_log.hpp"
#include "bus/restore_progress.hpp"
#include "support/added_log.hpp"
#include "support/gate.hpp"
#include "support/sum_model.hpp"

using namespace bus::actors;
using namespace std::chrono_literals;

namespace {

// Sums payload.n per payload.k; every apply waits at `g` first, if given
// (a model whose work hangs).
class gated_sum final : public bus::test::payload_sums {
public:
  explicit gated_sum(std::shared_ptr<bus::test::gate> g)
    : payload_sums("sums", {"Added"}), gate_(std::move(g)) {}
  bool apply(const bus::event& e) override {
    if (gate_)
      gate_->wait();
    return payload_sums::apply(e);
  }

private:
  std::shared_ptr<bus::test::gate> gate_;
};

// Keeps the progress records of a wait; restores the default sink after.
struct captured_progress {
  std::mutex mtx;
  std::vector<std::string> lines;
  captured_progress() {
    bus::set_log_sink([this](const bus::log_record& r) {
      if (r.source == "test") {
        std::lock_guard<std::mutex> lock{mtx};
        lines.emplace_back(r.message);
      }
    });
  }
  ~captured_progress() { bus::set_log_sink({}); }
};

struct node {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  bus_actor bus;
  supervisor_actor sup;
  node(std::shared_ptr<bus::memory_log> log, std::shared_ptr<bus::test::gate> g) {
    bus::init(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
    bus = spawn_bus(*sys, log, bus_options{});
    std::vector<bus::model_spec> models{
      {"sums", [g] { return std::make_unique<gated_sum>(g); }}};
    sup = spawn_supervisor(*sys, bus, models, bus::supervision_policy{},
                           projector_options{});
  }
  ~node() {
    caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(bus, caf::exit_reason::user_shutdown);
  }
};

// A wait that logs as "test" (captured_progress keeps those lines) ten
// times a second and gives up after `patience`.
bus::app::catch_up_options test_options(std::chrono::milliseconds patience) {
  bus::app::catch_up_options result;
  result.source = "test";
  result.patience = patience;
  result.report_every = std::chrono::milliseconds{100};
  return result;
}

// Waits (at most 30 s) until `x` holds.
template <class F>
void wait_until(F x) {
  for (int i = 0; i < 30000 && !x(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  BOOST_REQUIRE(x());
}

// Keeps every worker of `n` but one busy until `done`, and returns once
// they are: with a projector stuck in an apply (or in a restore), nothing
// answers.
void hog_other_workers(node& n, std::atomic<bool>& done) {
  auto hogs = n.sys->scheduler().num_workers() - 1;
  auto busy = std::make_shared<std::atomic<std::size_t>>(0);
  for (std::size_t i = 0; i < hogs; ++i) {
    auto hog = n.sys->spawn([&done, busy](caf::event_based_actor*) -> caf::behavior {
      return {[&done, busy](int) {
        ++*busy;
        while (!done)
          std::this_thread::sleep_for(std::chrono::milliseconds{1});
      }};
    });
    caf::anon_send(hog, 1);
  }
  wait_until([&] { return *busy == hogs; });
}

} // namespace

BOOST_AUTO_TEST_SUITE(catch_up_multithread)

BOOST_AUTO_TEST_CASE(returns_once_every_model_has_caught_up) {
  node n{bus::test::added_log(5000, 7), nullptr};
  caf::scoped_actor self{*n.sys};
  bus::app::catch_up_options opts;
  opts.source = "test";
  auto result = bus::app::wait_for_catch_up(self, n.sup, n.bus, opts);
  BOOST_TEST((result.outcome == bus::app::catch_up_outcome::caught_up));
  BOOST_TEST(result.head == 5000u);
  BOOST_REQUIRE(result.models.size() == 1u);
  BOOST_TEST(result.models[0].checkpoint == 5000u);
}

BOOST_AUTO_TEST_CASE(gives_up_after_the_patience_without_progress_and_reports_it) {
  auto g = std::make_shared<bus::test::gate>();
  captured_progress progress;
  {
    node n{bus::test::added_log(100, 7), g};
    caf::scoped_actor self{*n.sys};
    auto opts = test_options(1500ms);
    auto result = bus::app::wait_for_catch_up(self, n.sup, n.bus, opts);
    g->release(); // lets the projector finish before the system stops
    BOOST_TEST((result.outcome == bus::app::catch_up_outcome::no_progress));
    BOOST_TEST(result.head == 100u);
  }
  std::lock_guard<std::mutex> lock{progress.mtx};
  BOOST_REQUIRE(!progress.lines.empty());
  auto& first = progress.lines.front();
  BOOST_TEST(first.find("catching up: 0/1 read models caught up") == 0u, first);
  BOOST_TEST(first.find("of head 100 (slowest: sums") != std::string::npos, first);
}

BOOST_AUTO_TEST_CASE(rows_restored_count_as_progress_while_nothing_answers) {
  // A projector restoring a large snapshot answers nothing, and with one
  // per worker the supervisor does not either. Here the projector hangs in
  // an apply while a thread stands in for its restore, counting rows for
  // 4 s, longer than the patience; then the projector goes on.
  auto g = std::make_shared<bus::test::gate>();
  auto restores = std::make_shared<bus::restore_progress>();
  captured_progress progress;
  bus::app::catch_up_result result;
  {
    node n{bus::test::added_log(100, 7), g};
    caf::scoped_actor self{*n.sys};
    auto opts = test_options(3000ms);
    opts.restores = restores;
    std::atomic<bool> done{false};
    restores->models = 1; // started with the projector, before the wait
    wait_until([&] { return g->waiting.load() > 0; });
    std::thread restorer{[&] {
      for (int i = 0; i < 40; ++i) {
        std::this_thread::sleep_for(100ms);
        restores->rows += 4096;
      }
      restores->models = 0;
      done = true;
      g->release();
    }};
    hog_other_workers(n, done);
    result = bus::app::wait_for_catch_up(self, n.sup, n.bus, opts);
    restorer.join();
  }
  BOOST_TEST((result.outcome == bus::app::catch_up_outcome::caught_up));
  std::lock_guard<std::mutex> lock{progress.mtx};
  auto shown = std::any_of(progress.lines.begin(), progress.lines.end(), [](auto& x) {
    return x.find(", restoring 1 read model (") != std::string::npos;
  });
  BOOST_TEST(shown);
}

BOOST_AUTO_TEST_CASE(a_supervisor_that_never_answered_is_not_reported_as_no_models) {
  auto g = std::make_shared<bus::test::gate>();
  bus::app::catch_up_result result;
  {
    node n{bus::test::added_log(100, 7), g};
    caf::scoped_actor self{*n.sys};
    // Every worker busy: the projector's in its apply, the others here.
    wait_until([&] { return g->waiting.load() > 0; });
    std::atomic<bool> done{false};
    hog_other_workers(n, done);
    auto opts = test_options(500ms);
    result = bus::app::wait_for_catch_up(self, n.sup, n.bus, opts);
    done = true;
    g->release();
  }
  BOOST_TEST((result.outcome == bus::app::catch_up_outcome::no_progress));
  BOOST_TEST(result.progress == "no answer from the supervisor yet", result.progress);
}

BOOST_AUTO_TEST_CASE(progress_names_the_slowest_model_and_the_rate) {
  std::vector<projector_status> models(3);
  models[0].model = "a";
  models[0].state = model_state::running;
  models[0].checkpoint = 1000000;
  models[1].model = "b";
  models[1].state = model_state::catching_up;
  models[1].checkpoint = 1200;
  models[2].model = "c";
  models[2].state = model_state::catching_up;
  models[2].checkpoint = 90000;
  BOOST_TEST(bus::app::describe_progress(models, 1000000, 2500.7)
             == "1/3 read models caught up, checkpoints 1,200 to 1,000,000 of "
                "head 1,000,000 (slowest: b, catching_up), 2,500 events/s");
  models[1].state = model_state::failed;
  models[2].state = model_state::parked;
  BOOST_TEST(bus::app::describe_progress(models, 1000000, 0)
             == "3/3 read models caught up, head 1,000,000");
}

BOOST_AUTO_TEST_SUITE_END()
