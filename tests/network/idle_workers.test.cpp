// The scheduler the apps run (bus::one_worker_per_core) on real threads: an
// idle worker is woken when another worker has a second actor to run, and
// no work is lost or stuck on the way.

#include "bus/actors/init.hpp"

#include <boost/test/unit_test.hpp>

#include <caf/all.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <thread>

#include "internal/wake_stealing.hpp"

using namespace std::chrono_literals;

namespace {

using wake_coordinator = caf::scheduler::coordinator<bus::internal::wake_stealing>;

// Two workers whose naps outlast every deadline here: an idle worker comes
// back in time only if it is woken.
void sleepy_two_workers(caf::actor_system_config& cfg, bus::idle_workers idle) {
  bus::one_worker_per_core(cfg, idle);
  cfg.set("scheduler.max-threads", std::size_t{2});
  cfg.set("work-stealing.aggressive-poll-attempts", std::size_t{1});
  cfg.set("work-stealing.moderate-sleep-duration", caf::timespan{30s});
  cfg.set("work-stealing.relaxed-sleep-duration", caf::timespan{30s});
  cfg.set("logger.verbosity", caf::atom("quiet"));
}

// Spins until `done` or `limit` passes; returns `done()`.
template <class Done>
bool within(std::chrono::steady_clock::duration limit, Done done) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::yield();
  return done();
}

// An actor that, once woken, waits (at most `limit`) for the other one of
// its pair to be running too.
caf::behavior meet(caf::event_based_actor*, std::shared_ptr<std::atomic<int>> arrived,
                   std::shared_ptr<std::promise<bool>> met) {
  return {[=](caf::ok_atom) {
    ++*arrived;
    met->set_value(within(5s, [&] { return arrived->load() == 2; }));
  }};
}

} // namespace

BOOST_AUTO_TEST_SUITE(idle_workers_multithread)

BOOST_AUTO_TEST_CASE(names_round_trip) {
  for (auto x : {bus::idle_workers::poll, bus::idle_workers::wake})
    BOOST_TEST((bus::idle_workers_from_string(bus::to_string(x)) == x));
  BOOST_TEST(!bus::idle_workers_from_string("spin").has_value());
}

// Under idle_workers::poll the second worker sleeps through this (30 s naps)
// and the two never meet.
BOOST_AUTO_TEST_CASE(a_second_runnable_actor_wakes_a_napping_worker) {
  caf::actor_system_config cfg;
  sleepy_two_workers(cfg, bus::idle_workers::wake);
  caf::actor_system sys{cfg};
  auto arrived = std::make_shared<std::atomic<int>>(0);
  auto first = std::make_shared<std::promise<bool>>();
  auto second = std::make_shared<std::promise<bool>>();
  auto a = sys.spawn(meet, arrived, first);
  auto b = sys.spawn(meet, arrived, second);
  auto fan_out = sys.spawn([=](caf::event_based_actor* self) -> caf::behavior {
    return {[=](caf::ok_atom) {
      // Both land in this worker's queue: the second one pokes the peer.
      self->send(a, caf::ok_atom::value);
      self->send(b, caf::ok_atom::value);
    }};
  });
  // Both workers idle first, so that nothing but a poke can bring the
  // second one back.
  auto& sched = dynamic_cast<wake_coordinator&>(sys.scheduler());
  BOOST_REQUIRE(within(10s, [&] { return sched.data().napping.load() == 2; }));
  caf::anon_send(fan_out, caf::ok_atom::value);
  auto met_first = first->get_future();
  auto met_second = second->get_future();
  BOOST_REQUIRE(met_first.wait_for(10s) == std::future_status::ready);
  BOOST_REQUIRE(met_second.wait_for(10s) == std::future_status::ready);
  BOOST_TEST(met_first.get());
  BOOST_TEST(met_second.get());
}

// Round after round, one actor fans out to eight and waits for their eight
// replies, so the workers run out of work and nap between rounds, and each
// round pokes: every reply arrives (no wake-up is lost, nothing waits for a
// nap to end; a lost poke would still be found at the nap's end, so the
// naps here outlast the test's limit).
BOOST_AUTO_TEST_CASE(every_fan_out_completes) {
  caf::actor_system_config cfg;
  sleepy_two_workers(cfg, bus::idle_workers::wake);
  caf::actor_system sys{cfg};
  constexpr int width = 8;
  constexpr int rounds = 3000;
  std::vector<caf::actor> echoes;
  for (int i = 0; i < width; ++i)
    echoes.push_back(sys.spawn([](caf::event_based_actor*) -> caf::behavior {
      return {[](int x) { return x + 1; }};
    }));
  auto done = std::make_shared<std::promise<long>>();
  sys.spawn([=](caf::event_based_actor* self) -> caf::behavior {
    auto fan_out = [=](int round) {
      for (auto& e : echoes)
        self->send(e, round);
    };
    fan_out(0);
    auto sum = std::make_shared<long>(0);
    auto replies = std::make_shared<int>(0);
    return {[=](int y) {
      *sum += y;
      if (++*replies % width != 0)
        return;
      if (*replies == rounds * width)
        done->set_value(*sum);
      else
        fan_out(*replies / width);
    }};
  });
  auto result = done->get_future();
  BOOST_REQUIRE(result.wait_for(60s) == std::future_status::ready);
  // Round r comes back as r + 1 from every echo.
  BOOST_TEST(result.get() == long{width} * rounds * (rounds + 1) / 2);
}

BOOST_AUTO_TEST_SUITE_END()
