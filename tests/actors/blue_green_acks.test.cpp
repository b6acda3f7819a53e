// Blue/green and publish acknowledgements: an event published while the
// live projector hands the model over is acknowledged by the projector that
// ends up serving the model. The ack names the model when that projector
// took the event, whether the switch went ahead or was held, so that a
// publisher that waits for the projectors never reads a wrong answer.

#include "bus/actors/supervisor.hpp"

#include <algorithm>
#include <stdexcept>

#include "bus/errc.hpp"
#include "internal/snapshot_writer.hpp"
#include "support/blue_green_fixture.hpp"

using namespace bus;
using namespace bus::actors;
using namespace bus::test;

namespace {

/// Counts the "A" events whose payload.n is even and ignores the others,
/// which a tally of "A" takes: a new definition that ignores some events
/// the old one took. It may throw once on one seq, to hold its switch.
class even_count final : public read_model {
public:
  explicit even_count(std::uint64_t throw_once_on = 0) : throw_once_on_(throw_once_on) {
    // nop
  }

  const std::string& name() const noexcept override { return name_; }

  const std::vector<std::string>& event_types() const noexcept override {
    return types_;
  }

  bool apply(const event& e) override {
    if (throw_once_on_ != 0 && e.seq == throw_once_on_) {
      throw_once_on_ = 0;
      throw std::runtime_error("injected fault");
    }
    if (e.payload.at("n").as_int64() % 2 != 0)
      return false;
    ++count_;
    return true;
  }

  std::optional<boost::json::value> query(std::string_view) const override {
    return boost::json::value(count_);
  }

  boost::json::value snapshot() const override { return boost::json::value(count_); }

  void reset() override { count_ = 0; }

private:
  std::string name_ = "m";
  std::vector<std::string> types_{"A"};
  std::int64_t count_ = 0;
  std::uint64_t throw_once_on_;
};

model_spec evens(std::uint64_t throw_once_on = 0) {
  model_spec result{"m", [=] { return std::make_unique<even_count>(throw_once_on); }};
  result.recovery.attempts = 1;
  result.recovery.then = on_poison::park;
  return result;
}

recovery_policy park_at_once() {
  recovery_policy result;
  result.attempts = 1;
  result.then = on_poison::park;
  return result;
}

/// A tally of "A" that throws once on `seq` and tries it again only after
/// 10 s: its projector is still on that batch, unanswered, when a switch
/// begins.
model_spec tally_retrying(std::uint64_t seq) {
  auto result = tally("m", {"A"}, std::make_shared<fault_plan>(fault_plan{seq, 1}));
  result.recovery.attempts = 2;
  result.recovery.backoff = result.recovery.max_backoff = 10s;
  result.recovery.then = on_poison::park;
  return result;
}

struct acks_fixture : blue_green_fixture {
  using pending_ack = std::shared_ptr<std::optional<caf::expected<publish_ack>>>;

  /// Asks for a switch to `spec` and runs until the hand-over has begun: the
  /// shadow is switching and the live projector has stopped applying.
  std::shared_ptr<std::optional<caf::expected<projector_status>>>
  begin_hand_over(model_spec spec) {
    auto live = slot().handle;
    auto awaiting = send_request<projector_status>(shadow_atom::value, std::move(spec),
                                                   shadow_wait::live);
    step_until([&] {
      return slot().shadow && slot().shadow->state == model_state::switching
             && state_of<projector_state>(live).phase != projector_phase::running;
    });
    return awaiting;
  }

  /// Publishes `batch` from a fresh actor, waiting for the projectors,
  /// without running anything.
  pending_ack send_publish(std::vector<event> batch) {
    auto result = std::make_shared<std::optional<caf::expected<publish_ack>>>();
    sys.spawn([=](caf::event_based_actor* a) {
      a->request(caf::actor_cast<caf::actor>(bus), caf::infinite, publish_atom::value,
                 batch, publish_wait::projectors)
        .then([=](publish_ack& x) { *result = std::move(x); },
              [=](caf::error& err) { *result = std::move(err); });
    });
    return result;
  }

  /// The indexes of the published events that `model` took, per the ack.
  static std::set<std::uint32_t> taken_by(const pending_ack& ack,
                                          const std::string& model) {
    BOOST_REQUIRE(ack->has_value());
    BOOST_REQUIRE(**ack);
    std::set<std::uint32_t> result;
    for (auto& m : (**ack)->models)
      if (m.model == model)
        result.insert(m.applied.begin(), m.applied.end());
    return result;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(supervisor_blue_green_acks, acks_fixture)

BOOST_AUTO_TEST_CASE(an_event_published_during_the_hand_over_names_the_model) {
  start({tally("m", {"A"})});
  publish(events(0, 20, {"A"}));
  auto switched = begin_hand_over(tally("m", {"A"}));
  auto ack = send_publish(events(20, 3, {"A"}));
  run();
  BOOST_REQUIRE(switched->has_value());
  BOOST_REQUIRE(**switched);
  BOOST_TEST((taken_by(ack, "m") == std::set<std::uint32_t>{0, 1, 2}));
  // And the model that now serves queries holds them.
  BOOST_TEST(model_state("m") == expected_tally(whole_log(), {"A"}));
}

BOOST_AUTO_TEST_CASE(publishes_past_the_bus_window_during_the_hand_over_name_it_too) {
  // More batches than the bus keeps in flight to one projector: the rest
  // wait in the bus's queue for the frozen one, and are handed over too.
  start({tally("m", {"A"})});
  publish(events(0, 20, {"A"}));
  auto switched = begin_hand_over(tally("m", {"A"}));
  std::vector<pending_ack> acks;
  for (std::size_t i = 0; i < bus_options{}.max_in_flight + 10; ++i)
    acks.push_back(send_publish(events(20 + i, 1, {"A"})));
  run();
  BOOST_REQUIRE(switched->has_value());
  BOOST_REQUIRE(**switched);
  for (auto& ack : acks)
    BOOST_TEST((taken_by(ack, "m") == std::set<std::uint32_t>{0}));
}

BOOST_AUTO_TEST_CASE(the_ack_follows_the_new_definition_once_it_switched_in) {
  // The old definition takes every "A"; the new one ignores odd n.
  start({tally("m", {"A"})});
  publish(events(0, 20, {"A"}));
  model_spec evens{"m", [] { return std::make_unique<even_count>(); }};
  auto switched = begin_hand_over(evens);
  auto ack = send_publish(events(20, 4, {"A"})); // n = 20, 21, 22, 23
  run();
  BOOST_REQUIRE(switched->has_value());
  BOOST_REQUIRE(**switched);
  BOOST_TEST((taken_by(ack, "m") == std::set<std::uint32_t>{0, 2}));
  BOOST_TEST(model_state("m") == boost::json::value(12)); // evens of 0..23
}

BOOST_AUTO_TEST_CASE(an_event_published_during_a_held_hand_over_names_the_model) {
  start({tally("m", {"A"})});
  publish(events(0, 20, {"A"}));
  auto live = slot().handle;
  // The new definition parks seq 6 once: the switch is held, and the live
  // projector, which takes every "A", goes on serving the model.
  auto faults = std::make_shared<fault_plan>(fault_plan{6, 1});
  auto spec = tally("m", {"A"}, faults);
  spec.recovery = park_at_once();
  auto switched = begin_hand_over(spec);
  auto ack = send_publish(events(20, 2, {"A"}));
  run();
  BOOST_TEST((slot().handle == live));
  BOOST_TEST(!switched->has_value());
  BOOST_TEST((taken_by(ack, "m") == std::set<std::uint32_t>{0, 1}));
  BOOST_TEST(model_state("m") == expected_tally(whole_log(), {"A"}));
  // The held shadow tries seq 6 again and switches in with every event.
  sched.trigger_timeout();
  run();
  BOOST_REQUIRE(switched->has_value());
  BOOST_REQUIRE(**switched);
  BOOST_TEST((slot().handle != live));
  BOOST_TEST(model_state("m").at("sums")
             == expected_tally(whole_log(), {"A"}).at("sums"));
}

BOOST_AUTO_TEST_CASE(events_published_as_a_rollback_begins_name_the_model) {
  // Publishes far past the bus's window, sent just before the rollback: the
  // new projector stays live at the bus until the old one, subscribed
  // again, has caught up, so every event is named by one of them (a
  // rollback that paused the new one first named 64 of the 640).
  start({tally("m", {"A"})});
  publish(events(0, 20, {"A"}));
  BOOST_REQUIRE(shadow(tally("m", {"A"}), shadow_wait::live));
  std::vector<pending_ack> acks;
  for (std::size_t i = 0; i < 10 * bus_options{}.max_in_flight; ++i)
    acks.push_back(send_publish(events(20 + i, 1, {"A"})));
  auto rolled = send_request<projector_status>(rollback_atom::value, std::string{"m"});
  run();
  BOOST_REQUIRE(rolled->has_value());
  BOOST_REQUIRE(**rolled);
  std::size_t named = 0;
  for (auto& ack : acks)
    named += taken_by(ack, "m").size();
  BOOST_TEST(named == acks.size());
  BOOST_TEST(model_state("m") == expected_tally(whole_log(), {"A"}));
}

BOOST_AUTO_TEST_CASE(an_event_published_after_a_refused_rollback_names_the_model) {
  // The old definition parks seq 26 for good, which the current one
  // applied: the rollback is refused and the current projector stays live.
  // Its refusal came before the current projector was live again (it
  // writes a snapshot first), so an event published right after it was
  // acknowledged without the model and a query missed it.
  auto faults = std::make_shared<fault_plan>(fault_plan{26, -1});
  auto old_spec = tally("m", {"A"}, faults);
  old_spec.recovery = park_at_once();
  options.snapshot_path = store.path; // as bus-node --store runs it
  options.snapshot_every = 4;
  start({old_spec});
  publish(events(0, 20, {"A"}));
  BOOST_REQUIRE(shadow(tally("m", {"A"}), shadow_wait::live));
  publish(events(20, 10, {"A"}));
  auto rolled = send_request<projector_status>(rollback_atom::value, std::string{"m"});
  step_until([&] { return rolled->has_value(); });
  BOOST_REQUIRE(!**rolled);
  BOOST_TEST(code_of((*rolled)->error()) == errc::precondition_failed);
  // A slow disk: the current projector's snapshot writer runs last.
  BOOST_REQUIRE(slot().handle);
  auto writer = state_of<projector_state>(slot().handle).snapshot_writer;
  BOOST_REQUIRE(writer);
  auto* slow = dynamic_cast<caf::resumable*>(
    caf::actor_cast<caf::abstract_actor*>(writer));
  auto ack = send_publish(events(30, 1, {"A"}));
  for (;;) {
    auto& jobs = sched.jobs;
    auto i = std::find_if(jobs.begin(), jobs.end(),
                          [&](caf::resumable* job) { return job != slow; });
    if (i == jobs.end())
      break;
    std::rotate(jobs.begin(), i, i + 1);
    sched.run_once();
  }
  run();
  BOOST_TEST((taken_by(ack, "m") == std::set<std::uint32_t>{0}));
  BOOST_TEST(model_state("m") == expected_tally(whole_log(), {"A"}));
}

BOOST_AUTO_TEST_CASE(
  a_batch_the_old_projector_still_retried_names_only_what_the_model_applied) {
  // The old projector took seq 21 and retries 22 later; the shadow pulled
  // past the batch before it subscribed. The ack named the new model for
  // the odd n it ignored (seqs 21 and 23): seqs before the shadow's
  // subscribe counted as taken when their type was handled.
  start({tally_retrying(22)});
  publish(events(0, 20, {"A"}));
  auto ack = send_publish(events(21, 4, {"A"})); // seqs 21-24, n = 21-24
  run();
  BOOST_REQUIRE(!ack->has_value());
  publish(events(30, 20, {"A"}), publish_wait::log);
  auto switched = send_request<projector_status>(shadow_atom::value, evens(),
                                                 shadow_wait::live);
  run();
  BOOST_REQUIRE(switched->has_value());
  BOOST_REQUIRE(**switched);
  BOOST_TEST((taken_by(ack, "m") == std::set<std::uint32_t>{1, 3}));
}

BOOST_AUTO_TEST_CASE(after_a_held_switch_the_ack_names_only_what_the_model_applied) {
  // The new definition parks seq 6 once, which holds the switch; meanwhile
  // the old projector takes seq 21 and retries 22 later. When the switch
  // goes ahead, frozen at 21, the ack named the new model for seq 21,
  // whose odd n it ignored: its record forgot the seqs up to the freeze.
  start({tally_retrying(22)});
  publish(events(0, 20, {"A"}));
  auto switched = send_request<projector_status>(shadow_atom::value, evens(6),
                                                 shadow_wait::live);
  run();
  held_shadow();
  auto ack = send_publish(events(21, 4, {"A"})); // seqs 21-24, n = 21-24
  run();
  BOOST_REQUIRE(!ack->has_value());
  sched.advance_time(policy.initial_backoff); // the held switch, not the retry
  run();
  BOOST_REQUIRE(switched->has_value());
  BOOST_REQUIRE(**switched);
  BOOST_TEST((taken_by(ack, "m") == std::set<std::uint32_t>{1, 3}));
}

BOOST_AUTO_TEST_CASE(
  a_query_after_the_ack_of_an_event_published_during_a_rollback_sees_it) {
  // Found by bus-sim (seed 3535): the rollback's check paused the current
  // projector, which answered the push without the model while the
  // previous one, subscribed again, applied it. The ack named the model,
  // and a query sent after it reached the paused current projector.
  options.snapshot_path = store.path; // as bus-node --store runs it
  options.snapshot_every = 1000;
  auto rolled = request_rollback();
  auto current = slot().handle;
  step_until([&] {
    auto phase = state_of<projector_state>(current).phase;
    return phase == projector_phase::paused || phase == projector_phase::frozen;
  });
  // A slow disk: the previous projector's promote waits for its snapshot,
  // and the rollback with it, while everything else runs.
  auto step_but_writers = [&] {
    using writer = snapshot_writer_actor::stateful_base<snapshot_writer_state>;
    auto& jobs = sched.jobs;
    auto i = std::find_if(jobs.begin(), jobs.end(), [](caf::resumable* job) {
      return dynamic_cast<writer*>(job) == nullptr;
    });
    if (i != jobs.end()) // else only the writers can go on
      std::rotate(jobs.begin(), i, i + 1);
    BOOST_REQUIRE(sched.try_run_once());
  };
  auto ack = send_publish(events(20, 1, {"A"})); // key2, n = 20
  while (!ack->has_value())
    step_but_writers();
  auto q = send_request<query_result>(query_atom::value, std::string{"m"},
                                      std::string{"key2"});
  while (!q->has_value())
    step_but_writers();
  BOOST_REQUIRE(**q);
  BOOST_TEST((taken_by(ack, "m") == std::set<std::uint32_t>{0}));
  BOOST_TEST((***q).value == boost::json::value(2 + 5 + 8 + 11 + 14 + 17 + 20));
  run();
  BOOST_REQUIRE(rolled->has_value());
  BOOST_TEST(bool{**rolled});
}

BOOST_AUTO_TEST_SUITE_END()
