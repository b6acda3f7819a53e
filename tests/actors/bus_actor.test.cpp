#include "bus/actors/bus_actor.hpp"

#include "bus/errc.hpp"
#include "support/bus_fixture.hpp"
#include "internal/bus_state.hpp"
#include "internal/projector_state.hpp"

#include <limits>
#include <string>

using namespace bus;
using namespace bus::actors;
using namespace bus::test;

BOOST_FIXTURE_TEST_SUITE(bus_actor, bus_fixture)

BOOST_AUTO_TEST_CASE(status_counts_appended_events_and_duplicates) {
  publish(events(0, 3, {"A"}));
  publish(events(2, 2, {"A"})); // e2 again, e3 new
  auto status = ask<bus_status>(bus, status_atom::value);
  BOOST_REQUIRE(status);
  BOOST_TEST(status->head == 4u);
  BOOST_TEST(status->appended == 4u);
  BOOST_TEST(status->duplicates == 1u);
  // A log in memory measures no store timings.
  BOOST_TEST(!status->store.measured);
}

BOOST_AUTO_TEST_CASE(status_reports_the_messages_waiting_in_its_own_mailbox) {
  self->send(bus, status_atom::value);
  self->send(bus, head_atom::value);
  self->send(bus, head_atom::value);
  run();
  bus_status status;
  self->receive([&](bus_status& x) { status = x; });
  BOOST_TEST(status.mailbox == 2u);
}

BOOST_AUTO_TEST_CASE(fans_out_by_type_and_wildcard) {
  auto a = spawn_projector(tally("a", {"A"}));
  auto b = spawn_projector(tally("b", {"B"}));
  auto all = spawn_projector(tally("all", {"*"}));
  publish(events(1, 30, {"A", "B", "C"}));
  auto stored = whole_log();
  BOOST_TEST(stored.size() == 30u);
  BOOST_TEST(snapshot_of(a) == expected_tally(stored, {"A"}));
  BOOST_TEST(snapshot_of(b) == expected_tally(stored, {"B"}));
  BOOST_TEST(snapshot_of(all) == expected_tally(stored, {"*"}));
  // The type filter really filtered: "a" saw 10 events, "all" saw 30.
  BOOST_TEST(snapshot_of(a).at("seqs").as_array().size() == 10u);
  BOOST_TEST(snapshot_of(all).at("seqs").as_array().size() == 30u);
}

BOOST_AUTO_TEST_CASE(events_reach_each_projector_in_seq_order) {
  auto p = spawn_projector(tally("p", {"A", "B"}));
  // Many small batches, some without any event for p.
  for (std::size_t i = 0; i < 50; ++i)
    publish(events(i * 4, 4,
                   i % 3 == 0 ? std::vector<std::string>{"C"}
                              : std::vector<std::string>{"A", "B"}),
            publish_wait::log);
  run();
  auto seqs = snapshot_of(p).at("seqs").as_array();
  BOOST_REQUIRE(!seqs.empty());
  for (std::size_t i = 1; i < seqs.size(); ++i)
    BOOST_TEST(seqs[i - 1].as_uint64() < seqs[i].as_uint64());
  BOOST_TEST(snapshot_of(p) == expected_tally(whole_log(), {"A", "B"}));
}

BOOST_AUTO_TEST_CASE(republished_id_is_appended_once_and_applied_once) {
  auto p = spawn_projector(tally("p", {"A"}));
  auto first = publish(events(1, 5, {"A"}));
  auto again = publish(events(3, 5, {"A"})); // e3..e5 again, e6, e7 new
  BOOST_TEST(first.outcomes.size() == 5u);
  BOOST_TEST(again.outcomes[0].duplicate);
  BOOST_TEST(again.outcomes[0].seq == 3u); // the seq e3 already had
  BOOST_TEST(again.outcomes[2].duplicate);
  BOOST_TEST(!again.outcomes[3].duplicate);
  BOOST_TEST(again.outcomes[3].seq == 6u);
  BOOST_TEST(log->head() == 7u);
  BOOST_TEST(snapshot_of(p) == expected_tally(whole_log(), {"A"}));
}

BOOST_AUTO_TEST_CASE(awaited_publish_names_the_models_that_took_each_event) {
  auto a = spawn_projector(tally("a", {"A"}));
  auto ab = spawn_projector(tally("ab", {"A", "B"}));
  auto batch = events(0, 4, {"A", "B"}); // e0:A e1:B e2:A e3:B
  batch[2].payload.erase("k");           // tally ignores an event without k
  auto ack = publish(batch);
  BOOST_REQUIRE(ack.models.size() == 2u);
  std::map<std::string, std::vector<std::uint32_t>> by_model;
  for (auto& m : ack.models)
    by_model[m.model] = m.applied;
  BOOST_TEST((by_model["a"] == std::vector<std::uint32_t>{0}));
  BOOST_TEST((by_model["ab"] == std::vector<std::uint32_t>{0, 1, 3}));
}

// A blue/green shadow takes the pushes, but its name is not a model's and
// publishers do not wait for it: under load its subscription could show in
// the node's updated_models as "<model>~shadow" (seen in the node's
// blue_green test on a loaded machine).
BOOST_AUTO_TEST_CASE(awaited_publish_leaves_a_blue_green_shadow_out) {
  auto live = spawn_projector(tally("a", {"A"}));
  auto options = replaying(4096);
  options.shadow = true;
  auto shadow = bus::actors::spawn_projector(sys, bus, tally("a", {"A"}), options);
  run();
  auto ack = publish(events(0, 3, {"A"}));
  BOOST_REQUIRE(ack.models.size() == 1u);
  BOOST_TEST(ack.models[0].model == "a");
  BOOST_TEST((ack.models[0].applied == std::vector<std::uint32_t>{0, 1, 2}));
  // The shadow took them all the same.
  auto st = ask<projector_status>(shadow, status_atom::value);
  BOOST_REQUIRE(st);
  BOOST_TEST(st->checkpoint == 3u);
  self->send_exit(shadow, caf::exit_reason::user_shutdown);
  run();
}

BOOST_AUTO_TEST_CASE(awaited_publish_with_duplicates_maps_to_published_indexes) {
  auto a = spawn_projector(tally("a", {"A"}));
  publish(events(0, 2, {"A"}));            // e0, e1
  auto ack = publish(events(0, 4, {"A"})); // e0, e1 dup; e2, e3 new
  BOOST_REQUIRE(ack.models.size() == 1u);
  BOOST_TEST((ack.models[0].applied == std::vector<std::uint32_t>{2, 3}));
}

BOOST_AUTO_TEST_CASE(publish_with_nobody_subscribed_still_appends) {
  auto ack = publish(events(0, 3, {"A"}));
  BOOST_TEST(ack.models.empty());
  BOOST_TEST(log->head() == 3u);
}

BOOST_AUTO_TEST_CASE(publish_rejects_events_without_id_or_type) {
  auto batch = events(0, 2, {"A"});
  batch[1].id.clear();
  auto ack = ask<publish_ack>(bus, publish_atom::value, batch,
                              publish_wait::projectors);
  BOOST_REQUIRE(!ack);
  BOOST_TEST(code_of(ack.error()) == errc::invalid_event);
  BOOST_TEST(log->head() == 0u); // nothing of the batch was appended
}

BOOST_AUTO_TEST_CASE(publish_rejects_events_holding_numbers_that_are_not_finite) {
  // The JSON node refuses them at its input; an event built in C++ (or a
  // peer's batch) reached the log, and its queries answered with a NaN.
  for (int where = 0; where < 3; ++where) {
    BOOST_TEST_CONTEXT("case " << where) {
      auto batch = events(0, 3, {"A"});
      auto bad = std::numeric_limits<double>::quiet_NaN();
      if (where == 0) {
        batch[1].payload["n"] = bad;
      } else if (where == 1) {
        batch[2].payload["list"] = boost::json::array{
          1, -std::numeric_limits<double>::infinity()};
      } else {
        batch[0].metadata["at"] = bad;
      }
      auto ack = ask<publish_ack>(bus, publish_atom::value, batch,
                                  publish_wait::projectors);
      BOOST_REQUIRE(!ack);
      BOOST_TEST(code_of(ack.error()) == errc::invalid_event);
      BOOST_TEST(context_of(ack.error()).find("not finite") != std::string::npos);
      BOOST_TEST(log->head() == 0u); // nothing of the batch was appended
    }
  }
  // The same events with finite numbers go in.
  auto batch = events(0, 3, {"A"});
  batch[1].payload["n"] = 1e308;
  batch[0].metadata["at"] = -0.0;
  publish(batch);
  BOOST_TEST(log->head() == 3u);
}

BOOST_AUTO_TEST_CASE(publish_rejects_an_unknown_wait_mode) {
  // Only a faulty or foreign node can send a value outside the enum.
  auto ack = ask<publish_ack>(bus, publish_atom::value, events(0, 2, {"A"}),
                              static_cast<publish_wait>(7));
  BOOST_REQUIRE(!ack);
  BOOST_TEST(code_of(ack.error()) == errc::invalid_event);
  BOOST_TEST(log->head() == 0u);
}

BOOST_AUTO_TEST_CASE(replay_serves_the_log_in_ranges) {
  publish(events(0, 10, {"A", "B"}));
  auto batch = ask<event_batch>(bus, replay_atom::value, std::uint64_t{4},
                                std::uint32_t{3});
  BOOST_REQUIRE(batch);
  BOOST_TEST(batch->size() == 3u);
  BOOST_TEST(batch->first_seq() == 4u);
  BOOST_TEST(batch->last_seq() == 6u);
  auto past = ask<event_batch>(bus, replay_atom::value, std::uint64_t{11},
                               std::uint32_t{3});
  BOOST_REQUIRE(past);
  BOOST_TEST(past->empty());
  auto zero = ask<event_batch>(bus, replay_atom::value, std::uint64_t{0},
                               std::uint32_t{3});
  BOOST_TEST(!zero);
}

BOOST_AUTO_TEST_CASE(late_subscriber_catches_up_from_the_log_then_runs_live) {
  publish(events(0, 25, {"A", "B"}));
  // A small replay batch forces several pulls.
  auto p = spawn_projector(tally("late", {"A"}), 4);
  auto status = ask<projector_status>(p, status_atom::value);
  BOOST_REQUIRE(status);
  BOOST_TEST(status->state == model_state::running);
  BOOST_TEST(status->checkpoint == 25u);
  BOOST_TEST(status->replayed == 13u);
  publish(events(25, 10, {"A", "B"}));
  BOOST_TEST(snapshot_of(p) == expected_tally(whole_log(), {"A"}));
}

BOOST_AUTO_TEST_CASE(a_catch_up_with_reads_ahead_misses_nothing_at_short_answers) {
  // Batches of 7 fill the log's tail in chunks that do not end at a
  // multiple of 1000, and a replay answer ends where its chunk does: with
  // four requests under way, the ones after a short answer start past a
  // gap that must be read again before them.
  for (std::size_t i = 0; i < 10000; i += 7)
    publish(events(i, std::min<std::size_t>(7, 10000 - i), {"A", "B"}, 50));
  auto options = replaying(1000);
  options.replay_ahead = 4;
  auto p = actors::spawn_projector(sys, bus, tally("late", {"A", "B"}), options);
  run();
  auto status = ask<projector_status>(p, status_atom::value);
  BOOST_REQUIRE(status);
  BOOST_TEST(status->state == model_state::running);
  BOOST_TEST(status->checkpoint == 10000u);
  BOOST_TEST(status->replayed == 10000u);
  // The sums alone: the tally's list of 10,000 seqs makes a long message.
  BOOST_TEST(snapshot_of(p).at("sums")
             == expected_tally(whole_log(), {"A", "B"}).at("sums"));
}

BOOST_AUTO_TEST_CASE(a_pause_mid_catch_up_applies_no_replay_still_under_way) {
  publish(events(0, 100, {"A"}));
  auto options = replaying(8);
  options.replay_ahead = 4;
  auto p = actors::spawn_projector(sys, bus, tally("late", {"A"}), options);
  auto& st = state_of<actors::projector_state>(p);
  // Until the first answer is applied: the others are asked for by then.
  while (st.processed.watermark() < 8)
    BOOST_REQUIRE(sched.try_run_once());
  BOOST_REQUIRE(st.pulls_in_flight > 1);
  auto paused = ask<projector_status>(p, pause_atom::value);
  BOOST_REQUIRE(paused);
  BOOST_TEST(paused->state == model_state::paused);
  BOOST_TEST(paused->checkpoint < 100u);
  // The answers to the requests under way came after the pause.
  run();
  BOOST_TEST(st.processed.watermark() == paused->checkpoint);
  BOOST_TEST(ask<projector_status>(p, status_atom::value)->checkpoint
             == paused->checkpoint);
  // Resumed, it pulls on from its checkpoint and misses nothing.
  auto resumed = ask<projector_status>(p, resume_atom::value);
  BOOST_REQUIRE(resumed);
  BOOST_TEST(resumed->checkpoint == 100u);
  BOOST_TEST(snapshot_of(p) == expected_tally(whole_log(), {"A"}));
}

BOOST_AUTO_TEST_CASE(redelivered_range_is_skipped_by_every_projector) {
  auto a = spawn_projector(tally("a", {"A"}));
  auto ab = spawn_projector(tally("ab", {"A", "B"}));
  publish(events(0, 20, {"A", "B"}));
  auto before_a = snapshot_of(a);
  auto before_ab = snapshot_of(ab);
  auto pushed = ask<std::uint64_t>(bus, redeliver_atom::value, std::uint64_t{6});
  BOOST_REQUIRE(pushed);
  BOOST_TEST(*pushed == 15u); // seqs 6..20
  BOOST_TEST(snapshot_of(a) == before_a);
  BOOST_TEST(snapshot_of(ab) == before_ab);
  auto status_a = ask<projector_status>(a, status_atom::value);
  auto status_ab = ask<projector_status>(ab, status_atom::value);
  BOOST_TEST(status_a->skipped == 7u); // the A events among 6..20
  BOOST_TEST(status_ab->skipped == 15u);
  BOOST_TEST(status_ab->applied == 20u);
  // Live delivery goes on after the redelivery.
  publish(events(20, 4, {"A", "B"}));
  BOOST_TEST(snapshot_of(ab) == expected_tally(whole_log(), {"A", "B"}));
}

BOOST_AUTO_TEST_CASE(slow_projector_mailbox_stays_within_the_window) {
  // A bus that lets each subscriber have at most 4 deliveries in flight.
  auto small_log = std::make_shared<memory_log>();
  auto small = spawn_bus(sys, small_log, bus_options{4});
  auto p = bus::actors::spawn_projector(sys, small, tally("slow", {"A", "B"}),
                                        replaying(8));
  run();
  // 50 batches reach the bus while the projector gets no CPU at all.
  for (std::size_t i = 0; i < 50; ++i)
    self->send(small, publish_atom::value, events(i * 3, 3, {"A", "B"}),
               publish_wait::log);
  auto* bus_job = dynamic_cast<caf::resumable*>(
    caf::actor_cast<caf::abstract_actor*>(small));
  sched.run_jobs_filtered([&](caf::resumable* job) { return job == bus_job; });
  BOOST_TEST(small_log->head() == 150u);
  auto& projector = dynamic_cast<caf::scheduled_actor&>(
    *caf::actor_cast<caf::abstract_actor*>(p));
  BOOST_TEST(projector.mailbox().size() <= 4u); // not 50
  // Given CPU, it takes the pushes it got, sees the gap, pulls the rest.
  run();
  std::vector<event> all;
  for_each_batch(*small_log, [&](const event_batch& batch) {
    all.insert(all.end(), batch.begin(), batch.end());
  });
  BOOST_TEST(snapshot_of(p) == expected_tally(all, {"A", "B"}));
  auto status = ask<projector_status>(p, status_atom::value);
  BOOST_TEST(status->checkpoint == 150u);
  BOOST_TEST(status->state == model_state::running);
  // Back to live pushes afterwards.
  self->send(small, publish_atom::value, events(150, 3, {"A", "B"}), publish_wait::log);
  run();
  BOOST_TEST(ask<projector_status>(p, status_atom::value)->checkpoint == 153u);
  BOOST_TEST(state_of<bus_state>(small).subscribers.begin()->second.in_flight == 0u);
  self->send_exit(p, caf::exit_reason::user_shutdown);
  self->send_exit(small, caf::exit_reason::user_shutdown);
  run();
}

BOOST_AUTO_TEST_CASE(dead_projector_is_unsubscribed) {
  auto p = spawn_projector(tally("p", {"A"}));
  BOOST_TEST(state_of<bus_state>(bus).subscribers.size() == 1u);
  self->send_exit(p, caf::exit_reason::user_shutdown);
  run();
  BOOST_TEST(state_of<bus_state>(bus).subscribers.empty());
  auto ack = publish(events(0, 3, {"A"}));
  BOOST_TEST(ack.models.empty());
}

BOOST_AUTO_TEST_SUITE_END()
