// Poison events: a model that throws on an event retries it after a
// backoff, then parks it and goes on; an operator lists, retries and
// discards parked events. Deterministic: backoffs fire when the test
// triggers the scheduler's timeouts.

#include "bus/actors/projector.hpp"

#include <set>

#include "bus/errc.hpp"
#include "support/bus_fixture.hpp"

using namespace bus;
using namespace bus::actors;
using namespace bus::test;

namespace {

recovery_policy parking(std::uint32_t attempts, key_order order) {
  recovery_policy result;
  result.attempts = attempts;
  result.backoff = std::chrono::milliseconds{10};
  result.then = on_poison::park;
  result.order = order;
  return result;
}

struct parking_fixture : bus_fixture {
  std::shared_ptr<fault_plan> faults = std::make_shared<fault_plan>();

  parking_fixture() { faults->throw_on_seq = 0; }

  projector_actor spawn_parking(std::uint32_t attempts, key_order order) {
    auto spec = tally("m", {"A"}, faults);
    spec.recovery = parking(attempts, order);
    return spawn_projector(std::move(spec));
  }

  /// Publishes and waits for the ack, firing backoff timers as needed.
  publish_ack publish_through_retries(std::vector<event> batch) {
    auto ack = std::make_shared<std::optional<publish_ack>>();
    sys.spawn([=](caf::event_based_actor* a) {
      a->request(caf::actor_cast<caf::actor>(bus), caf::infinite, publish_atom::value,
                 batch, publish_wait::projectors)
        .then([=](publish_ack& x) { *ack = std::move(x); }, [](caf::error&) {});
    });
    do
      run();
    while (!*ack && sched.trigger_timeout());
    BOOST_REQUIRE(*ack);
    return std::move(**ack);
  }

  std::set<std::uint64_t> parked_seqs(const parked_list& xs) {
    std::set<std::uint64_t> result;
    for (auto& x : xs.entries.as_array())
      result.insert(x.at("event").at("seq").to_number<std::uint64_t>());
    return result;
  }

  /// The sums a tally of type A reaches over `events` without `left_out`.
  boost::json::value sums_without(const std::vector<event>& events,
                                  const std::set<std::uint64_t>& left_out) {
    std::vector<event> kept;
    for (auto& e : events)
      if (left_out.count(e.seq) == 0)
        kept.push_back(e);
    return expected_tally(kept, {"A"}).at("sums");
  }
};

std::set<std::uint32_t> applied_indexes(const publish_ack& ack) {
  std::set<std::uint32_t> result;
  for (auto& m : ack.models)
    result.insert(m.applied.begin(), m.applied.end());
  return result;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(projector_parking, parking_fixture)

BOOST_AUTO_TEST_CASE(poison_events_are_parked_and_the_rest_is_the_fold) {
  faults->poison = {5, 10, 15, 20};
  auto p = spawn_parking(3, key_order::none);
  auto ack = publish_through_retries(events(0, 24, {"A"}));
  // The ack names the model for every event but the parked ones.
  auto applied = applied_indexes(ack);
  BOOST_TEST(applied.size() == 20u);
  for (auto seq : faults->poison)
    BOOST_TEST(applied.count(static_cast<std::uint32_t>(seq - 1)) == 0u);
  BOOST_TEST(snapshot_of(p).at("sums") == sums_without(whole_log(), faults->poison));
  auto listed = ask<parked_list>(p, parked_atom::value);
  BOOST_REQUIRE(listed);
  BOOST_TEST((parked_seqs(*listed) == faults->poison));
  auto first = listed->entries.as_array().front().as_object();
  BOOST_TEST(first.at("attempts").to_number<int>() == 3);
  BOOST_TEST(first.at("error").as_string() == "poison at seq 5");
  auto status = ask<projector_status>(p, status_atom::value);
  BOOST_TEST(status->parked == 4u);
  BOOST_TEST(status->checkpoint == 24u);
  BOOST_TEST(status->state == model_state::running);
}

BOOST_AUTO_TEST_CASE(retry_after_a_fix_yields_the_full_fold) {
  faults->poison = {3, 7};
  auto p = spawn_parking(2, key_order::none);
  publish_through_retries(events(0, 10, {"A"}));
  BOOST_TEST(ask<projector_status>(p, status_atom::value)->parked == 2u);
  // Retrying before the fix parks them again, attempts counted on.
  auto again = ask<parked_list>(p, unpark_atom::value, std::uint64_t{0});
  BOOST_REQUIRE(again);
  BOOST_TEST(again->done == 0u);
  BOOST_TEST(again->entries.as_array().size() == 2u);
  faults->poisoned = false; // the model is fixed
  auto fixed = ask<parked_list>(p, unpark_atom::value, std::uint64_t{0});
  BOOST_REQUIRE(fixed);
  BOOST_TEST(fixed->done == 2u);
  BOOST_TEST(fixed->entries.as_array().empty());
  BOOST_TEST(snapshot_of(p).at("sums") == sums_without(whole_log(), {}));
  BOOST_TEST(ask<projector_status>(p, status_atom::value)->parked == 0u);
}

BOOST_AUTO_TEST_CASE(later_events_of_a_key_park_behind_the_poison_event) {
  // keys cycle key0, key1, key2 over seqs 1, 2, 3, ...: seq 2 is key1.
  faults->poison = {2};
  auto p = spawn_parking(1, key_order::per_key);
  publish_through_retries(events(0, 9, {"A"}));
  auto listed = ask<parked_list>(p, parked_atom::value);
  BOOST_REQUIRE(listed);
  // Seq 2 failed; seqs 5 and 8 (key1 too) wait behind it, unapplied.
  BOOST_TEST((parked_seqs(*listed) == std::set<std::uint64_t>{2, 5, 8}));
  auto& entries = listed->entries.as_array();
  BOOST_TEST(entries[1].at("reason").as_string() == "behind");
  BOOST_TEST(entries[1].at("behind").to_number<std::uint64_t>() == 2u);
  BOOST_TEST(snapshot_of(p).at("sums") == sums_without(whole_log(), {2, 5, 8}));
  // Retrying seq 5 first would break key1's order.
  auto early = ask<parked_list>(p, unpark_atom::value, std::uint64_t{5});
  BOOST_REQUIRE(!early);
  BOOST_TEST(code_of(early.error()) == errc::precondition_failed);
  // Fixed, retrying seq 2 applies it and the ones behind it, in order.
  faults->poisoned = false;
  auto fixed = ask<parked_list>(p, unpark_atom::value, std::uint64_t{2});
  BOOST_REQUIRE(fixed);
  BOOST_TEST(fixed->done == 3u);
  auto seqs = snapshot_of(p).at("seqs").as_array();
  BOOST_TEST(seqs[seqs.size() - 3].to_number<std::uint64_t>() == 2u);
  BOOST_TEST(seqs[seqs.size() - 2].to_number<std::uint64_t>() == 5u);
  BOOST_TEST(seqs[seqs.size() - 1].to_number<std::uint64_t>() == 8u);
  BOOST_TEST(snapshot_of(p).at("sums") == sums_without(whole_log(), {}));
}

BOOST_AUTO_TEST_CASE(transient_failure_is_retried_and_the_ack_waits_for_it) {
  faults->transient = {{3, 2}}; // seq 3 throws twice, then works
  auto p = spawn_parking(3, key_order::per_key);
  auto ack = std::make_shared<std::optional<publish_ack>>();
  sys.spawn([=](caf::event_based_actor* a) {
    a->request(caf::actor_cast<caf::actor>(bus), caf::infinite, publish_atom::value,
               events(0, 5, {"A"}), publish_wait::projectors)
      .then([=](publish_ack& x) { *ack = std::move(x); }, [](caf::error&) {});
  });
  run();
  BOOST_TEST(!*ack); // waits for the retry of seq 3
  // A query meanwhile sees the state before seq 3.
  auto mid = ask<projector_status>(p, status_atom::value);
  BOOST_TEST(mid->applied == 2u);
  BOOST_TEST(sched.trigger_timeout());
  run();
  BOOST_TEST(!*ack); // the second attempt failed too
  BOOST_TEST(sched.trigger_timeout());
  run();
  BOOST_REQUIRE(*ack);
  BOOST_TEST(applied_indexes(**ack).size() == 5u);
  auto status = ask<projector_status>(p, status_atom::value);
  BOOST_TEST(status->parked == 0u);
  BOOST_TEST(status->applied == 5u);
  // Later publishes go on as usual.
  auto next = publish(events(5, 3, {"A"}));
  BOOST_TEST(applied_indexes(next).size() == 3u);
  BOOST_TEST(snapshot_of(p) == expected_tally(whole_log(), {"A"}));
}

BOOST_AUTO_TEST_CASE(discarded_events_are_never_applied) {
  faults->poison = {4, 6};
  auto p = spawn_parking(1, key_order::none);
  publish_through_retries(events(0, 8, {"A"}));
  auto one = ask<parked_list>(p, drop_parked_atom::value, std::uint64_t{4});
  BOOST_REQUIRE(one);
  BOOST_TEST(one->done == 1u);
  BOOST_TEST((parked_seqs(*one) == std::set<std::uint64_t>{6}));
  auto missing = ask<parked_list>(p, drop_parked_atom::value, std::uint64_t{4});
  BOOST_REQUIRE(!missing);
  BOOST_TEST(code_of(missing.error()) == errc::not_parked);
  faults->poisoned = false;
  auto rest = ask<parked_list>(p, unpark_atom::value, std::uint64_t{0});
  BOOST_REQUIRE(rest);
  BOOST_TEST(snapshot_of(p).at("sums") == sums_without(whole_log(), {4}));
}

BOOST_AUTO_TEST_CASE(a_rebuild_parks_again_what_still_fails) {
  faults->poison = {3};
  auto p = spawn_parking(1, key_order::none);
  publish_through_retries(events(0, 6, {"A"}));
  ask<projector_status>(p, rebuild_atom::value);
  do
    run();
  while (sched.trigger_timeout());
  auto listed = ask<parked_list>(p, parked_atom::value);
  BOOST_REQUIRE(listed);
  BOOST_TEST((parked_seqs(*listed) == std::set<std::uint64_t>{3}));
  BOOST_TEST(snapshot_of(p).at("sums") == sums_without(whole_log(), {3}));
}

// Found by bus-sim (seed 187): a rebuild while a pushed batch waits for the
// retry of one of its events answered that push unapplied, but pulled the
// log only up to the old checkpoint, so the rest of the push was never
// applied until another publish showed a gap.
BOOST_AUTO_TEST_CASE(a_rebuild_during_a_retry_catches_up_with_the_suspended_push) {
  auto p = spawn_parking(2, key_order::none);
  publish(events(0, 2, {"A"}));
  faults->transient = {{3, 1}}; // seq 3 throws once, then works
  sys.spawn([=](caf::event_based_actor* a) {
    a->request(caf::actor_cast<caf::actor>(bus), caf::infinite, publish_atom::value,
               events(2, 3, {"A"}), publish_wait::log)
      .then([](publish_ack&) {}, [](caf::error&) {});
  });
  run(); // seq 3 is suspended, its retry timer pending
  BOOST_TEST(ask<projector_status>(p, status_atom::value)->checkpoint == 2u);
  ask<projector_status>(p, rebuild_atom::value);
  do
    run();
  while (sched.trigger_timeout());
  auto status = ask<projector_status>(p, status_atom::value);
  BOOST_TEST(status->checkpoint == 5u);
  BOOST_TEST(status->state == model_state::running);
  BOOST_TEST(snapshot_of(p) == expected_tally(whole_log(), {"A"}));
}

BOOST_AUTO_TEST_SUITE_END()
