// Projectors restoring their snapshots on real threads: the restores run
// off the CAF workers, so that with a restore for every worker the
// supervisor still answers status ("restoring") and queries (refused)
// rather than nothing, then serves the restored models.

#include <boost/test/unit_test.hpp>

#include <caf/all.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "bus/actors/bus_actor.hpp"
#include "bus/actors/init.hpp"
#include "bus/actors/supervisor.hpp"
#include "bus/errc.hpp"
#include "bus/memory_log.hpp"
#include "support/added_log.hpp"
#include "support/gate.hpp"
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

// A node of two workers with two gated models, snapshotted every 10 events.
struct node {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  bus_actor bus;
  supervisor_actor sup;

  node(std::shared_ptr<bus::memory_log> log, const std::string& snapshots,
       std::shared_ptr<bus::test::gate> gate) {
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

BOOST_AUTO_TEST_SUITE_END()
