#include "bus/actors/projector.hpp"

#include <algorithm>
#include <chrono>

#include "bus/errc.hpp"
#include "support/bus_fixture.hpp"
#include "support/stdout_capture.hpp"
#include "internal/bus_state.hpp"

using namespace bus;
using namespace bus::actors;
using namespace bus::test;

BOOST_FIXTURE_TEST_SUITE(projector, bus_fixture)

BOOST_AUTO_TEST_CASE(redelivered_batch_is_skipped_and_reported) {
  auto p = spawn_projector(tally("p", {"A"}));
  publish(events(0, 5, {"A"}));
  auto before = snapshot_of(p);
  // The bus delivers at least once; a transport retry resends a batch.
  auto again = log->read(1, 5);
  auto ack = ask<delivery_ack>(p, deliver_atom::value, again, std::uint64_t{1});
  BOOST_REQUIRE(ack);
  BOOST_TEST(ack->applied.empty());
  BOOST_TEST((ack->skipped == std::vector<std::uint32_t>{0, 1, 2, 3, 4}));
  BOOST_TEST(ack->checkpoint == 5u);
  BOOST_TEST(snapshot_of(p) == before);
  auto status = ask<projector_status>(p, status_atom::value);
  BOOST_TEST(status->applied == 5u);
  BOOST_TEST(status->skipped == 5u);
}

BOOST_AUTO_TEST_CASE(partly_redelivered_batch_applies_only_the_new_events) {
  auto p = spawn_projector(tally("p", {"A"}));
  publish(events(0, 3, {"A"}));
  // Events 4..6 reach the log without reaching p (as if the push was lost),
  // then a batch 2..6 arrives: 2..3 are skipped, 4..6 applied.
  auto appended = log->append(events(3, 3, {"A"}));
  BOOST_REQUIRE(appended.appended.size() == 3u);
  auto all = whole_log();
  auto batch = event_batch::of({all.begin() + 1, all.end()});
  BOOST_REQUIRE(batch.first_seq() == 2u);
  auto ack = ask<delivery_ack>(p, deliver_atom::value, batch, std::uint64_t{2});
  BOOST_REQUIRE(ack);
  BOOST_TEST((ack->skipped == std::vector<std::uint32_t>{0, 1}));
  BOOST_TEST((ack->applied == std::vector<std::uint32_t>{2, 3, 4}));
  BOOST_TEST(snapshot_of(p) == expected_tally(whole_log(), {"A"}));
}

BOOST_AUTO_TEST_CASE(push_after_a_gap_makes_the_projector_pull_the_log) {
  auto p = spawn_projector(tally("p", {"A"}));
  // Seqs 1..4 are appended behind the bus's back; then seq 5 is pushed as
  // covering only itself: p must first pull 1..4 from the log.
  log->append(events(0, 4, {"A"}));
  log->append(events(4, 1, {"A"}));
  auto ack = ask<delivery_ack>(p, deliver_atom::value, log->read(5, 1),
                               std::uint64_t{5});
  BOOST_REQUIRE(ack);
  BOOST_TEST(ack->checkpoint == 5u);
  BOOST_TEST(snapshot_of(p) == expected_tally(whole_log(), {"A"}));
}

BOOST_AUTO_TEST_CASE(exception_in_read_model_fails_the_projector_with_reason) {
  auto faults = std::make_shared<fault_plan>(fault_plan{3, -1});
  auto p = spawn_projector(tally("fragile", {"A"}, faults));
  caf::error reason;
  self->monitor(p);
  stdout_capture out;
  auto ack = ask<publish_ack>(bus, publish_atom::value, events(0, 5, {"A"}),
                              publish_wait::projectors);
  BOOST_REQUIRE(ack); // the publish itself succeeded
  BOOST_TEST(ack->models.size() == 1u);
  BOOST_TEST(ack->models[0].applied.empty()); // fragile took none of it
  self->receive([&](caf::down_msg& dm) { reason = dm.reason; });
  BOOST_TEST(code_of(reason) == errc::apply_failed);
  auto text = context_of(reason);
  BOOST_TEST(text.find("'fragile'") != std::string::npos);
  BOOST_TEST(text.find("'e2'") != std::string::npos); // the event's id
  BOOST_TEST(text.find("seq 3") != std::string::npos);
  BOOST_TEST(text.find("injected fault") != std::string::npos);
  BOOST_TEST(out.text.str() == "");
}

BOOST_AUTO_TEST_CASE(query_answers_value_or_no_such_key) {
  auto p = spawn_projector(tally("p", {"A"}));
  publish(events(0, 6, {"A"}, 2)); // key0: 0+2+4, key1: 1+3+5
  auto hit = ask<query_result>(p, query_atom::value, std::string{"key1"});
  BOOST_REQUIRE(hit);
  BOOST_TEST(hit->value.as_int64() == 9);
  BOOST_TEST(hit->model == "p");
  auto miss = ask<query_result>(p, query_atom::value, std::string{"nope"});
  BOOST_REQUIRE(!miss);
  BOOST_TEST(code_of(miss.error()) == errc::no_such_key);
}

BOOST_AUTO_TEST_CASE(query_while_catching_up_is_unavailable_not_stale) {
  publish(events(0, 20, {"A"}));
  // Spawned but not run yet: the query reaches it before its catch-up.
  auto p = bus::actors::spawn_projector(sys, bus, tally("p", {"A"}), replaying(4));
  auto early = ask<query_result>(p, query_atom::value, std::string{"key0"});
  BOOST_REQUIRE(!early);
  BOOST_TEST(code_of(early.error()) == errc::model_unavailable);
  BOOST_TEST(context_of(early.error()).find("catching up") != std::string::npos);
  // Once caught up, it answers from the whole log.
  auto late = ask<query_result>(p, query_atom::value, std::string{"key0"});
  BOOST_REQUIRE(late);
  BOOST_TEST(late->value == expected_tally(whole_log(), {"A"}).at("sums").at("key0"));
}

BOOST_AUTO_TEST_CASE(a_live_projector_filling_a_gap_answers_queries) {
  // Found by bus-sim (seed 192 and 107 of 100,000 seeds, query invariant):
  // a running projector whose bus withheld unawaited batches sees a gap and
  // pulls the log; meanwhile it refused queries as "catching up", though
  // its model held every event it had been acknowledged for.
  auto p = spawn_projector(tally("p", {"A"}));
  publish(events(0, 4, {"A"}, 2));
  auto acked = whole_log();
  log->append(events(4, 4, {"A"}, 2)); // withheld: never pushed
  log->append(events(8, 1, {"A"}, 2));
  self->send(p, deliver_atom::value, log->read(9, 1), std::uint64_t{9});
  auto* bus_job = dynamic_cast<caf::resumable*>(
    caf::actor_cast<caf::abstract_actor*>(bus));
  // p sees the gap and asks for the log; its bus gets no CPU yet.
  sched.run_jobs_filtered([&](caf::resumable* job) { return job != bus_job; });
  auto answer = std::make_shared<std::optional<caf::expected<query_result>>>();
  sys.spawn([=](caf::event_based_actor* a) {
    a->request(caf::actor_cast<caf::actor>(p), caf::infinite, query_atom::value,
               std::string{"key0"})
      .then([=](query_result& r) { *answer = r; },
            [=](caf::error& err) { *answer = err; });
  });
  sched.run_jobs_filtered([&](caf::resumable* job) { return job != bus_job; });
  BOOST_REQUIRE(answer->has_value());
  auto& reply = **answer;
  if (!reply)
    BOOST_FAIL("refused: " << caf::to_string(reply.error()));
  auto expected = expected_tally(acked, {"A"});
  BOOST_TEST(reply->value == expected.at("sums").at("key0"));
  run();
  BOOST_TEST(snapshot_of(p) == expected_tally(whole_log(), {"A"}));
}

BOOST_AUTO_TEST_CASE(factory_that_throws_fails_the_projector_at_start) {
  model_spec spec{"broken",
                  []() -> read_model_ptr { throw std::runtime_error("no database"); }};
  auto p = bus::actors::spawn_projector(sys, bus, spec, projector_options{});
  self->monitor(p);
  run();
  caf::error reason;
  self->receive([&](caf::down_msg& dm) { reason = dm.reason; });
  BOOST_TEST(code_of(reason) == errc::apply_failed);
  BOOST_TEST(context_of(reason).find("no database") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(live_events_are_timed_from_append_to_apply_replayed_ones_not) {
  auto p = spawn_projector(tally("p", {"A"}));
  // Appended 3 s ago (the log keeps a timestamp it is given): each is
  // applied about 3 s after its append, in the bucket up to 5 s.
  auto batch = events(0, 2, {"A"});
  auto three_s_ago = std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::system_clock::now().time_since_epoch()
                       - std::chrono::seconds{3})
                       .count();
  for (auto& e : batch)
    e.timestamp = three_s_ago;
  publish(batch);
  auto status = ask<projector_status>(p, status_atom::value);
  BOOST_REQUIRE(status);
  auto& h = status->apply_latency;
  BOOST_TEST(h.count() == 2u);
  auto five_s = std::find(latency_histogram::bounds_ns.begin(),
                          latency_histogram::bounds_ns.end(), 5'000'000'000)
                - latency_histogram::bounds_ns.begin();
  BOOST_TEST(h.counts()[static_cast<std::size_t>(five_s)] == 2u);
  BOOST_TEST(h.sum_ns() >= 2 * 3'000'000'000LL);
  // A projector that pulls the same events from the log applies them, but
  // their age says how far behind it was, not how fast the bus is.
  auto late = spawn_projector(tally("late", {"A"}));
  auto late_status = ask<projector_status>(late, status_atom::value);
  BOOST_REQUIRE(late_status);
  BOOST_TEST(late_status->applied == 2u);
  BOOST_TEST(late_status->apply_latency.count() == 0u);
}

BOOST_AUTO_TEST_CASE(status_reports_the_messages_waiting_in_its_own_mailbox) {
  auto p = spawn_projector(tally("p", {"A"}));
  // A status request, then three more messages behind it: when the
  // projector answers the first, three are waiting.
  self->send(p, status_atom::value);
  for (int i = 0; i < 3; ++i)
    self->send(p, status_atom::value);
  run();
  std::vector<std::uint64_t> seen;
  for (int i = 0; i < 4; ++i)
    self->receive([&](projector_status& s) { seen.push_back(s.mailbox); });
  BOOST_TEST((seen == std::vector<std::uint64_t>{3, 2, 1, 0}));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(projector_lifecycle, bus_fixture)

BOOST_AUTO_TEST_CASE(a_stopped_projector_answers_the_ready_it_holds) {
  // Found by bus-sim: an operator restart waits for the new projector's
  // ready; a second restart stopping that projector left it unanswered.
  publish(events(0, 10, {"A"}));
  auto p = bus::actors::spawn_projector(sys, bus, tally("p", {"A"}), replaying(4));
  auto ready = std::make_shared<std::optional<caf::expected<projector_status>>>();
  sys.spawn([=](caf::event_based_actor* a) {
    a->request(caf::actor_cast<caf::actor>(p), caf::infinite, ready_atom::value)
      .then([=](projector_status& s) { *ready = s; },
            [=](caf::error& err) { *ready = err; });
  });
  auto* bus_job = dynamic_cast<caf::resumable*>(
    caf::actor_cast<caf::abstract_actor*>(bus));
  // The projector starts and takes the ready; its bus gets no CPU, so it
  // is still catching up when it is stopped.
  sched.run_jobs_filtered([&](caf::resumable* job) { return job != bus_job; });
  BOOST_TEST(!ready->has_value());
  self->send_exit(p, caf::exit_reason::user_shutdown);
  sched.run_jobs_filtered([&](caf::resumable* job) { return job != bus_job; });
  BOOST_REQUIRE(ready->has_value());
  BOOST_TEST(!**ready); // an error naming the stop, not silence
  run();
}

BOOST_AUTO_TEST_CASE(
  a_hold_rebound_before_its_subscribe_is_answered_reaches_its_pause) {
  // Found by bus-sim (seed 41000156): a partition of a shared model, told
  // to hold where its model was paused while its subscribe was under way,
  // then rebound (its bus had restarted), never pulled again: the
  // subscribe's answer came from the bus it had left and was dropped, and
  // "subscribing" with it never ended.
  publish(events(0, 20, {"A"}));
  auto p = bus::actors::spawn_projector(sys, bus, tally("p", {"A"}), replaying(4));
  self->send(p, hold_atom::value, std::uint64_t{10});
  self->send(p, rebind_atom::value, caf::actor_cast<caf::actor>(bus));
  auto* bus_job = dynamic_cast<caf::resumable*>(
    caf::actor_cast<caf::abstract_actor*>(bus));
  // The projector starts, subscribes, holds and is rebound before the bus
  // gets any CPU.
  sched.run_jobs_filtered([&](caf::resumable* job) { return job != bus_job; });
  run();
  auto held = status(p);
  BOOST_TEST(held.state == model_state::paused);
  BOOST_TEST(held.checkpoint == 10u);
  auto first_ten = whole_log();
  first_ten.resize(10);
  BOOST_TEST(snapshot_of(p) == expected_tally(first_ten, {"A"}));
  // Pushes are not applied while held: a resume catches up.
  publish(events(20, 5, {"A"}));
  BOOST_TEST(status(p).checkpoint == 10u);
  BOOST_REQUIRE(ask<projector_status>(p, resume_atom::value));
  run();
  BOOST_TEST(status(p).checkpoint == 25u);
}

BOOST_AUTO_TEST_CASE(pause_answers_a_resume_still_catching_up) {
  // Found by bus-sim: a resume waiting for its catch-up, overtaken by a
  // pause, was never answered.
  auto p = spawn_projector(tally("p", {"A"}));
  ask<projector_status>(p, pause_atom::value);
  publish(events(0, 10, {"A"}));
  auto resumed = std::make_shared<std::optional<caf::expected<projector_status>>>();
  auto paused = std::make_shared<std::optional<caf::expected<projector_status>>>();
  sys.spawn([=](caf::event_based_actor* a) {
    a->request(caf::actor_cast<caf::actor>(p), caf::infinite, resume_atom::value)
      .then([=](projector_status& s) { *resumed = s; },
            [=](caf::error& err) { *resumed = err; });
    a->request(caf::actor_cast<caf::actor>(p), caf::infinite, pause_atom::value)
      .then([=](projector_status& s) { *paused = s; },
            [=](caf::error& err) { *paused = err; });
  });
  run();
  BOOST_REQUIRE(paused->has_value());
  BOOST_REQUIRE(resumed->has_value()); // answered, not left waiting
  BOOST_REQUIRE(**resumed);
  BOOST_TEST(((**resumed)->state == model_state::paused));
}

BOOST_AUTO_TEST_CASE(paused_projector_applies_nothing_and_resume_catches_up) {
  auto p = spawn_projector(tally("p", {"A"}));
  publish(events(0, 5, {"A"}));
  auto paused = ask<projector_status>(p, pause_atom::value);
  BOOST_REQUIRE(paused);
  BOOST_TEST(paused->state == model_state::paused);
  run();
  auto before = snapshot_of(p);
  // Publishers do not wait for a paused model, and it takes nothing.
  for (std::size_t i = 1; i <= 10; ++i) {
    auto ack = publish(events(i * 5, 5, {"A"}));
    BOOST_TEST(ack.models.empty());
  }
  BOOST_TEST(snapshot_of(p) == before);
  BOOST_TEST(ask<projector_status>(p, status_atom::value)->checkpoint == 5u);
  BOOST_TEST(state_of<bus_state>(bus).subscribers.empty());
  auto resumed = ask<projector_status>(p, resume_atom::value);
  BOOST_REQUIRE(resumed);
  run();
  auto status = ask<projector_status>(p, status_atom::value);
  BOOST_TEST(status->state == model_state::running);
  BOOST_TEST(status->checkpoint == 55u);
  BOOST_TEST(snapshot_of(p) == expected_tally(whole_log(), {"A"}));
  // And it is live again.
  auto ack = publish(events(55, 5, {"A"}));
  BOOST_REQUIRE_EQUAL(ack.models.size(), 1u);
  BOOST_TEST(ack.models[0].applied.size() == 5u);
}

BOOST_AUTO_TEST_CASE(rebuild_reprojects_from_the_log_while_pushes_wait) {
  auto p = spawn_projector(tally("p", {"A", "B"}), 4);
  publish(events(0, 30, {"A", "B", "C"}));
  // The rebuild and new events arrive together; the query sees the rebuild
  // under way and does not answer from a half-built model.
  self->send(p, rebuild_atom::value);
  self->send(bus, publish_atom::value, events(30, 9, {"A", "B", "C"}),
             publish_wait::log);
  auto during = ask<query_result>(p, query_atom::value, std::string{"key0"});
  BOOST_REQUIRE(!during);
  BOOST_TEST(code_of(during.error()) == errc::model_unavailable);
  run();
  auto status = ask<projector_status>(p, status_atom::value);
  BOOST_TEST(status->state == model_state::running);
  BOOST_TEST(status->rebuilds == 1u);
  BOOST_TEST(status->checkpoint == 39u);
  // Every event applied exactly once since the reset, in order.
  BOOST_TEST(snapshot_of(p) == expected_tally(whole_log(), {"A", "B"}));
}

BOOST_AUTO_TEST_CASE(status_reports_the_time_of_the_checkpoint) {
  auto p = spawn_projector(tally("p", {"A"}));
  auto batch = events(0, 3, {"A"});
  batch[2].timestamp = 1234567;
  publish(batch);
  auto status = ask<projector_status>(p, status_atom::value);
  BOOST_TEST(status->checkpoint_timestamp == 1234567);
  auto bus_st = ask<bus_status>(bus, status_atom::value);
  BOOST_REQUIRE(bus_st);
  BOOST_TEST(bus_st->head == 3u);
  BOOST_TEST(bus_st->head_timestamp == 1234567);
  BOOST_TEST(bus_st->subscribers == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(projector_hooks, bus_fixture)

BOOST_AUTO_TEST_CASE(hooks_run_around_every_batch_live_and_replayed) {
  publish(events(0, 10, {"A", "B"})); // 10 events before the projector
  auto calls = std::make_shared<std::vector<std::string>>();
  auto opts = replaying(4);
  opts.hooks.before = [calls](const read_model& m, const event_batch& b) {
    calls->push_back("before " + m.name() + " " + std::to_string(b.first_seq()));
  };
  opts.hooks.after = [calls](const read_model&, const event_batch& b, std::size_t n) {
    calls->push_back("after " + std::to_string(b.last_seq()) + " took "
                     + std::to_string(n));
  };
  auto p = bus::actors::spawn_projector(sys, bus, tally("p", {"A"}), opts);
  run();
  publish(events(10, 2, {"A", "B"})); // one live batch
  auto expected = std::vector<std::string>{"before p 1",  "after 4 took 2",
                                           "before p 5",  "after 8 took 2",
                                           "before p 9",  "after 10 took 1",
                                           "before p 11", "after 12 took 1"};
  BOOST_TEST(*calls == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(throwing_hook_fails_the_projector_naming_the_hook) {
  auto opts = replaying(4);
  opts.hooks.after = [](const read_model&, const event_batch&, std::size_t) {
    throw std::runtime_error("commit refused");
  };
  auto p = bus::actors::spawn_projector(sys, bus, tally("p", {"A"}), opts);
  run();
  self->monitor(p);
  publish(events(0, 3, {"A"}));
  caf::error reason;
  self->receive([&](caf::down_msg& dm) { reason = dm.reason; });
  BOOST_TEST(code_of(reason) == errc::apply_failed);
  BOOST_TEST(context_of(reason).find("'after'") != std::string::npos);
  BOOST_TEST(context_of(reason).find("commit refused") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
