// Blue/green and parked events: a shadow that parked an event the live
// projector applied holds its switch (the switch would drop an applied
// event from the model) and retries it; parked events both projectors
// parked do not hold it; a shadow that keeps lacking one fails, as a
// shadow that keeps crashing does. A rollback to a projector lacking an
// event the current one applied is likewise refused.

#include "bus/actors/supervisor.hpp"

#include "bus/errc.hpp"
#include "support/blue_green_fixture.hpp"

using namespace bus;
using namespace bus::actors;
using namespace bus::test;

namespace {

recovery_policy park_at_once() {
  recovery_policy result;
  result.attempts = 1;
  result.then = on_poison::park;
  return result;
}

/// A tally of `types` that parks what it throws on.
model_spec parking_tally(std::shared_ptr<fault_plan> faults,
                         std::vector<std::string> types = {"A"},
                         key_order order = key_order::per_key) {
  auto result = tally("m", std::move(types), std::move(faults));
  result.recovery = park_at_once();
  result.recovery.order = order;
  return result;
}

struct parking_fixture : blue_green_fixture {
  /// Runs the old definition (with `faults`) over 20 events, switches to a
  /// new one, and publishes 10 more: seqs 21 to 30 only the new one saw.
  void switched_over(std::shared_ptr<fault_plan> faults) {
    start({parking_tally(std::move(faults))});
    publish(events(0, 20, {"A"}));
    BOOST_REQUIRE(shadow(tally("m", {"A"}), shadow_wait::live));
    publish(events(20, 10, {"A"}));
  }

  /// True once the model holds every event of the log once; a parked and
  /// retried key is applied out of seq order, so the sums and the count
  /// are compared.
  void holds_every_event() {
    auto state = model_state("m");
    auto want = expected_tally(whole_log(), {"A"});
    BOOST_TEST(state.at("sums") == want.at("sums"));
    BOOST_TEST(state.at("seqs").as_array().size() == want.at("seqs").as_array().size());
  }

  /// The seqs in the model's dead-letter store, as its supervisor lists them.
  std::vector<std::uint64_t> parked(const std::string& model) {
    auto list = ask<parked_list>(sup, parked_atom::value, model);
    BOOST_REQUIRE(list);
    std::vector<std::uint64_t> result;
    for (auto& x : list->entries.as_array())
      result.push_back(x.at("event").at("seq").to_number<std::uint64_t>());
    return result;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(supervisor_blue_green_parking, parking_fixture)

BOOST_AUTO_TEST_CASE(
  a_shadow_holds_its_switch_while_it_lacks_an_event_the_live_one_applied) {
  start({tally("m", {"A"})});
  publish(events(0, 20, {"A"}));
  auto live = slot().handle;
  // The new definition throws once on seq 6 and parks it at once; the live
  // projector applied it, and a publish's ack said so.
  auto faults = std::make_shared<fault_plan>(fault_plan{6, 1});
  auto awaiting = send_request<projector_status>(
    shadow_atom::value, parking_tally(faults), shadow_wait::live);
  run();
  BOOST_TEST(held_shadow().last_error.find("6") != std::string::npos);
  BOOST_TEST(!awaiting->has_value());
  // The live projector still answers, with every event, and goes on.
  BOOST_TEST((slot().handle == live));
  BOOST_TEST(status()[0].state == model_state::running);
  publish(events(20, 5, {"A"}));
  BOOST_TEST(model_state("m") == expected_tally(whole_log(), {"A"}));
  // The held shadow tries its parked events again after a backoff; this
  // time seq 6 applies, and the switch goes ahead with nothing missing.
  sched.trigger_timeout();
  run();
  BOOST_REQUIRE(awaiting->has_value());
  BOOST_REQUIRE(**awaiting);
  BOOST_TEST((*awaiting)->value().role == model_role::live);
  BOOST_TEST((slot().handle != live));
  BOOST_TEST(!entry("m", model_role::shadow));
  holds_every_event();
  BOOST_TEST(parked("m").empty());
}

BOOST_AUTO_TEST_CASE(events_both_projectors_parked_do_not_hold_the_switch) {
  // Both definitions keep failing on seq 6 and park it: switching loses
  // nothing, and the event stays parked in the new projector.
  auto poison = std::make_shared<fault_plan>();
  poison->poison = {6};
  start({parking_tally(poison)});
  publish(events(0, 20, {"A"}));
  auto before = parked("m"); // seq 6 and, under per-key order, its key's later events
  BOOST_REQUIRE(!before.empty());
  BOOST_TEST(before.front() == 6u);
  auto live = slot().handle;
  auto switched = shadow(parking_tally(poison), shadow_wait::live);
  BOOST_REQUIRE(switched);
  BOOST_TEST(switched->role == model_role::live);
  // The awaited reply says what status says: parked, not running.
  BOOST_TEST(switched->state == model_state::parked);
  BOOST_TEST(status()[0].state == model_state::parked);
  BOOST_TEST((slot().handle != live));
  BOOST_TEST(parked("m") == before);
  // Retried once healed, they apply (in seq order of their key, after the
  // rest: compare the sums).
  poison->poisoned = false;
  BOOST_REQUIRE(
    ask<parked_list>(sup, unpark_atom::value, std::string{"m"}, std::uint64_t{0}));
  BOOST_TEST(parked("m").empty());
  BOOST_TEST(model_state("m").at("sums")
             == expected_tally(whole_log(), {"A"}).at("sums"));
}

BOOST_AUTO_TEST_CASE(events_the_live_projector_dropped_do_not_hold_the_switch) {
  auto poison = std::make_shared<fault_plan>();
  poison->poison = {6};
  start({parking_tally(poison)});
  publish(events(0, 20, {"A"}));
  // The operator gave up on seq 6 (and what its key parked behind it).
  auto dropped = ask<parked_list>(sup, drop_parked_atom::value, std::string{"m"},
                                  std::uint64_t{0});
  BOOST_REQUIRE(dropped);
  BOOST_TEST(dropped->done > 0u);
  auto live = slot().handle;
  auto switched = shadow(parking_tally(poison), shadow_wait::live);
  BOOST_REQUIRE(switched);
  BOOST_TEST((slot().handle != live));
  // The new projector parked them: nothing the old one applied is missing.
  BOOST_TEST(parked("m").size() == dropped->done);
}

BOOST_AUTO_TEST_CASE(
  events_of_no_interest_to_the_old_definition_do_not_hold_the_switch) {
  start({tally("m", {"A"})});
  publish(events(0, 20, {"A", "B"}));
  // The new definition also takes B events and keeps failing on seq 6, a B
  // event, which the old one never applied; no per-key parking behind it.
  auto faults = std::make_shared<fault_plan>(fault_plan{6, -1});
  auto live = slot().handle;
  auto switched = shadow(parking_tally(faults, {"A", "B"}, key_order::none),
                         shadow_wait::live);
  BOOST_REQUIRE(switched);
  BOOST_TEST((slot().handle != live));
  BOOST_TEST(parked("m") == std::vector<std::uint64_t>{6});
}

BOOST_AUTO_TEST_CASE(
  a_shadow_that_keeps_lacking_an_applied_event_fails_and_never_goes_live) {
  start({tally("m", {"A"})});
  publish(events(0, 20, {"A"}));
  auto live = slot().handle;
  auto faults = std::make_shared<fault_plan>(fault_plan{6, -1});
  auto awaiting = send_request<projector_status>(
    shadow_atom::value, parking_tally(faults), shadow_wait::live);
  run();
  held_shadow();
  BOOST_TEST(!awaiting->has_value());
  // Tried again within the restart budget (2 here), then given up on.
  for (int i = 0; i < 5; ++i) {
    sched.trigger_timeout();
    run();
  }
  auto sh = entry("m", model_role::shadow);
  BOOST_REQUIRE(sh);
  BOOST_TEST(sh->state == model_state::failed);
  BOOST_TEST(sh->last_error.find("6") != std::string::npos);
  BOOST_REQUIRE(awaiting->has_value());
  BOOST_REQUIRE(!**awaiting);
  BOOST_TEST(code_of((*awaiting)->error()) == errc::model_unavailable);
  // The live projector never stopped, and has every event.
  BOOST_TEST((slot().handle == live));
  BOOST_TEST(status()[0].state == model_state::running);
  publish(events(20, 5, {"A"}));
  BOOST_TEST(model_state("m") == expected_tally(whole_log(), {"A"}));
  discard_shadow();
  BOOST_TEST((slot().handle == live));
}

BOOST_AUTO_TEST_CASE(lifecycle_requests_wait_until_the_hand_over_is_over) {
  // The hand-over freezes the live projector to fix what it applied; a
  // resume (or retried parked events) then would apply more behind the
  // check's back, so they are refused until the switch is done.
  start({tally("m", {"A"})});
  publish(events(0, 20, {"A"}));
  self->send(sup, shadow_atom::value, tally("m", {"A"}), shadow_wait::start);
  step_until(
    [&] { return slot().shadow && slot().shadow->state == model_state::switching; });
  for (auto which : {"pause", "resume", "rebuild", "unpark"}) {
    std::shared_ptr<std::optional<caf::expected<projector_status>>> status_reply;
    std::shared_ptr<std::optional<caf::expected<parked_list>>> parked_reply;
    if (which == std::string{"pause"})
      status_reply = send_request<projector_status>(pause_atom::value,
                                                    std::string{"m"});
    else if (which == std::string{"resume"})
      status_reply = send_request<projector_status>(resume_atom::value,
                                                    std::string{"m"});
    else if (which == std::string{"rebuild"})
      status_reply = send_request<projector_status>(rebuild_atom::value,
                                                    std::string{"m"});
    else
      parked_reply = send_request<parked_list>(unpark_atom::value, std::string{"m"},
                                               std::uint64_t{0});
    auto answered = [&] {
      return status_reply ? status_reply->has_value() : parked_reply->has_value();
    };
    // Answered before the hand-over goes on: one job for the spawn, one
    // for the supervisor's answer.
    step_until(answered);
    BOOST_TEST_INFO(which);
    auto err = status_reply
                 ? (**status_reply ? caf::error{} : (*status_reply)->error())
                 : (**parked_reply ? caf::error{} : (*parked_reply)->error());
    BOOST_TEST(code_of(err) == errc::precondition_failed);
  }
  run();
  BOOST_TEST(!slot().shadow.has_value());
  BOOST_TEST(status()[0].state == model_state::running);
  BOOST_TEST(model_state("m") == expected_tally(whole_log(), {"A"}));
}

BOOST_AUTO_TEST_CASE(a_hold_names_a_few_seqs_and_counts_the_rest) {
  start({tally("m", {"A"})});
  publish(events(0, 60, {"A"}, 1)); // one key: the rest parks behind seq 1
  auto faults = std::make_shared<fault_plan>(fault_plan{1, -1});
  BOOST_REQUIRE(shadow(parking_tally(faults)));
  run();
  auto text = held_shadow().last_error;
  BOOST_TEST(text.find("seq(s) 1, 2, 3,") != std::string::npos);
  BOOST_TEST(text.find(" 20 and 40 more") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_rollback_retries_what_the_previous_projector_lacks) {
  // The old definition throws once on seq 26, which comes after the switch:
  // the kept projector meets it only when it catches up for the rollback.
  switched_over(std::make_shared<fault_plan>(fault_plan{26, 1}));
  auto current = slot().handle;
  auto rolled = lifecycle_request(rollback_atom::value, "m");
  BOOST_REQUIRE(rolled);
  BOOST_TEST((slot().handle != current));
  // It parked seq 26, which the current projector applied; tried again, it
  // applied: the model lost nothing in the rollback.
  BOOST_TEST(parked("m").empty());
  holds_every_event();
}

BOOST_AUTO_TEST_CASE(a_rollback_to_a_projector_lacking_an_applied_event_is_refused) {
  switched_over(std::make_shared<fault_plan>(fault_plan{26, -1}));
  auto current = slot().handle;
  auto rolled = lifecycle_request(rollback_atom::value, "m");
  BOOST_REQUIRE(!rolled);
  BOOST_TEST(code_of(rolled.error()) == errc::precondition_failed);
  BOOST_TEST_MESSAGE(to_string(rolled.error()));
  // The current projector stays live and runs, with every event; the
  // previous one is kept, paused, for a later rollback or a discard.
  BOOST_TEST((slot().handle == current));
  BOOST_TEST(status()[0].state == model_state::running);
  auto previous = entry("m", model_role::previous);
  BOOST_REQUIRE(previous);
  BOOST_TEST(previous->state == model_state::paused);
  publish(events(30, 5, {"A"}));
  BOOST_TEST(model_state("m") == expected_tally(whole_log(), {"A"}));
  BOOST_REQUIRE(lifecycle_request(discard_atom::value, "m"));
}

BOOST_AUTO_TEST_CASE(a_rollback_during_a_restart_leaves_no_projector_untracked) {
  start({tally("m", {"A"})});
  publish(events(0, 20, {"A"}));
  BOOST_REQUIRE(shadow(tally("m", {"A"}), shadow_wait::live));
  run();
  // An operator's restart, then a rollback before the restarted projector
  // is up: the rollback must not swap in over a projector it does not know.
  auto restarted = send_request<projector_status>(restart_atom::value,
                                                  std::string{"m"});
  auto rolled = send_request<projector_status>(rollback_atom::value, std::string{"m"});
  run();
  BOOST_REQUIRE(restarted->has_value());
  BOOST_TEST(bool{**restarted});
  // Refused: roll back once the restart is done.
  BOOST_REQUIRE(rolled->has_value());
  BOOST_REQUIRE(!**rolled);
  BOOST_TEST(code_of((*rolled)->error()) == errc::precondition_failed);
  sched.trigger_timeouts();
  run();
  // One projector takes the model's events (a kept one is paused): none
  // is left running untracked.
  BOOST_TEST(subscribers() == 1u);
  BOOST_TEST_MESSAGE("running actors: " << sys.registry().running());
  publish(events(20, 5, {"A"}));
  BOOST_TEST(model_state("m") == expected_tally(whole_log(), {"A"}));
}

BOOST_AUTO_TEST_CASE(a_restart_during_a_rollback_leaves_no_projector_untracked) {
  auto rolled = request_rollback();
  auto current = slot().handle;
  step_until([&] { return slot().rolling_back; });
  // The current projector crashes mid-rollback and is restarted at once.
  self->send_exit(current, caf::exit_reason::kill);
  step_until([&] { return slot().handle != current || !slot().rolling_back; });
  sched.trigger_timeouts();
  run();
  BOOST_REQUIRE(rolled->has_value());
  sched.trigger_timeouts();
  run();
  BOOST_TEST(subscribers() == 1u);
  BOOST_TEST(!entry("m", model_role::previous));
  publish(events(20, 5, {"A"}));
  BOOST_TEST(model_state("m") == expected_tally(whole_log(), {"A"}));
}

BOOST_AUTO_TEST_SUITE_END()
