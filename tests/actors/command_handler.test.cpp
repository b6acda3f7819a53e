#include "bus/actors/command_handler.hpp"

#include <algorithm>
#include <random>

#include "bus/errc.hpp"
#include "bus/event_stream.hpp"
#include "support/account_aggregate.hpp"
#include "support/deterministic_fixture.hpp"
#include "support/test_models.hpp"

using namespace bus;
using namespace bus::actors;
using bus::test::account_type;
using bus::test::make_command;

namespace {

using answer = std::shared_ptr<std::optional<caf::expected<command_ack>>>;

struct command_fixture : bus::test::deterministic_fixture {
  std::shared_ptr<memory_log> log = std::make_shared<memory_log>();
  bus_actor bus;
  command_handler_actor handler;

  command_fixture() {
    bus = spawn_bus(sys, log);
    run();
  }

  ~command_fixture() {
    // A subscribed projector and its bus hold each other alive.
    self->send_exit(bus, caf::exit_reason::user_shutdown);
    if (handler)
      self->send_exit(handler, caf::exit_reason::user_shutdown);
    run();
  }

  void start_handler(std::size_t snapshot_every = 4,
                     publish_wait wait = publish_wait::log,
                     std::uint32_t max_publishes = 16) {
    auto store = stream_store::make({account_type()}, snapshot_every);
    BOOST_REQUIRE(store);
    command_handler_options options;
    options.wait = wait;
    options.max_publishes_in_flight = max_publishes;
    options.replay_batch = 7; // several replays for the logs of these tests
    handler = spawn_command_handler(sys, bus, std::move(*store), options);
  }

  /// Sends `c` from a fresh actor; the answer is there once the system ran.
  answer send(command c) {
    auto result = std::make_shared<std::optional<caf::expected<command_ack>>>();
    auto target = handler;
    sys.spawn([=](caf::event_based_actor* a) {
      a->request(target, caf::infinite, command_atom::value, c)
        .then([=](command_ack& ack) { *result = std::move(ack); },
              [=](caf::error& err) { *result = std::move(err); });
    });
    return result;
  }

  /// Sends `c`, runs the system and returns the answer.
  caf::expected<command_ack> command_now(command c) {
    auto a = send(std::move(c));
    run();
    BOOST_REQUIRE(a->has_value());
    return std::move(**a);
  }

  /// Runs every job, picking the next one at random (seeded).
  void run_shuffled(std::mt19937& rng) {
    auto& jobs = sched.jobs;
    while (!jobs.empty()) {
      auto i = std::uniform_int_distribution<std::size_t>{0, jobs.size() - 1}(rng);
      std::rotate(jobs.begin(), jobs.begin() + static_cast<std::ptrdiff_t>(i),
                  jobs.begin() + static_cast<std::ptrdiff_t>(i) + 1);
      sched.run_once();
    }
  }

  /// The events of `stream` in the log, in seq order.
  std::vector<event> stream_events(const std::string& stream) {
    std::vector<event> result;
    for_each_batch(*log, [&](const event_batch& batch) {
      for (auto& e : batch)
        if (auto pos = stream_of(e); pos && pos->stream == stream)
          result.push_back(e);
    });
    return result;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(command_handler, command_fixture)

BOOST_AUTO_TEST_CASE(a_command_is_answered_with_its_appended_events) {
  start_handler();
  auto opened = command_now(make_command("Open", "acct-1", 0, {{"owner", "ann"}}));
  if (!opened)
    BOOST_FAIL(caf::to_string(opened.error()));
  BOOST_TEST(opened->stream == "acct-1");
  BOOST_TEST(opened->version == 1u);
  BOOST_REQUIRE(opened->events.size() == 1u);
  BOOST_TEST(opened->events[0].id == "acct-1@1");
  BOOST_TEST(opened->events[0].seq == 1u);
  auto deposited = command_now(make_command("Deposit", "acct-1", 1, {{"amount", 30}}));
  BOOST_REQUIRE(deposited);
  BOOST_TEST(deposited->version == 2u);
  BOOST_TEST(deposited->events.at(0).seq == 2u);
  // The log holds them, with their stream fields.
  auto events = stream_events("acct-1");
  BOOST_REQUIRE(events.size() == 2u);
  BOOST_TEST(events[1].type == "Deposited");
  BOOST_TEST(stream_of(events[1])->version == 2u);
}

BOOST_AUTO_TEST_CASE(of_two_senders_expecting_one_version_exactly_one_wins) {
  start_handler();
  BOOST_REQUIRE(command_now(make_command("Open", "acct-1", 0, {{"owner", "ann"}})));
  auto first = send(make_command("Deposit", "acct-1", 1, {{"amount", 5}}));
  auto second = send(make_command("Deposit", "acct-1", 1, {{"amount", 7}}));
  run();
  BOOST_REQUIRE(first->has_value());
  BOOST_REQUIRE(second->has_value());
  auto& winner = **first ? **first : **second;
  auto& loser = **first ? **second : **first;
  BOOST_REQUIRE(winner);
  BOOST_REQUIRE(!loser);
  BOOST_TEST(code_of(loser.error()) == errc::version_conflict);
  BOOST_TEST(context_of(loser.error())
             == "stream 'acct-1': expected version 1, but it is at version 2");
  BOOST_TEST(winner->version == 2u);
  BOOST_TEST(stream_events("acct-1").size() == 2u);
}

BOOST_AUTO_TEST_CASE(many_senders_in_any_interleaving_append_each_version_once) {
  start_handler(3);
  run();
  for (unsigned seed = 1; seed <= 40; ++seed) {
    std::mt19937 rng{seed};
    auto stream = "acct-" + std::to_string(seed);
    BOOST_REQUIRE(command_now(make_command("Open", stream, 0, {{"owner", "o"}})));
    // Five rounds; in each, four senders race for the same version.
    for (std::uint64_t round = 1; round <= 5; ++round) {
      std::vector<answer> answers;
      for (int sender = 0; sender < 4; ++sender)
        answers.push_back(
          send(make_command("Deposit", stream, round, {{"amount", 1 + sender}})));
      run_shuffled(rng);
      std::size_t won = 0;
      for (auto& a : answers) {
        BOOST_REQUIRE(a->has_value());
        if (**a) {
          ++won;
          BOOST_TEST((**a)->version == round + 1);
        } else {
          BOOST_TEST(code_of((**a).error()) == errc::version_conflict);
        }
      }
      BOOST_TEST(won == 1u, "seed " << seed << " round " << round);
    }
    auto events = stream_events(stream);
    BOOST_REQUIRE(events.size() == 6u);
    for (std::size_t i = 0; i < events.size(); ++i)
      BOOST_TEST(stream_of(events[i])->version == i + 1);
  }
}

BOOST_AUTO_TEST_CASE(commands_after_a_conflict_see_the_new_version) {
  start_handler();
  BOOST_REQUIRE(command_now(make_command("Open", "acct-1", 0, {{"owner", "ann"}})));
  auto a = send(make_command("Deposit", "acct-1", 1, {{"amount", 5}}));
  auto b = send(make_command("Deposit", "acct-1", 1, {{"amount", 6}}));
  // Sent after both, from the version the winner will have made.
  auto c = send(make_command("Withdraw", "acct-1", 2, {{"amount", 5}}));
  run();
  BOOST_TEST(static_cast<bool>(**a));
  BOOST_TEST(!**b);
  BOOST_REQUIRE(static_cast<bool>(**c));
  BOOST_TEST((**c)->version == 3u);
}

BOOST_AUTO_TEST_CASE(a_rejected_command_appends_nothing) {
  start_handler();
  BOOST_REQUIRE(command_now(make_command("Open", "acct-1", 0, {{"owner", "ann"}})));
  auto overdraw = command_now(make_command("Withdraw", "acct-1", 1, {{"amount", 1}}));
  BOOST_REQUIRE(!overdraw);
  BOOST_TEST(code_of(overdraw.error()) == errc::command_rejected);
  auto unknown = command_now(make_command("Fly", "acct-1", 1));
  BOOST_REQUIRE(!unknown);
  BOOST_TEST(code_of(unknown.error()) == errc::unknown_command);
  BOOST_TEST(log->head() == 1u);
  // A command that changes nothing is answered with no events.
  auto touch = command_now(make_command("Touch", "acct-1", 1));
  BOOST_REQUIRE(touch);
  BOOST_TEST(touch->events.empty());
  BOOST_TEST(touch->version == 1u);
}

BOOST_AUTO_TEST_CASE(another_writer_of_a_version_makes_a_conflict_not_a_second_event) {
  start_handler();
  BOOST_REQUIRE(command_now(make_command("Open", "acct-1", 0, {{"owner", "ann"}})));
  // A publisher that bypasses the handler writes version 2 itself.
  event rogue;
  rogue.type = "Deposited";
  rogue.payload = {{"amount", 1}};
  stamp_stream(rogue, "acct-1", 2, "account");
  BOOST_REQUIRE(ask<publish_ack>(bus, publish_atom::value, std::vector<event>{rogue},
                                 publish_wait::log));
  auto mine = command_now(make_command("Deposit", "acct-1", 1, {{"amount", 9}}));
  BOOST_REQUIRE(!mine);
  BOOST_TEST(code_of(mine.error()) == errc::version_conflict);
  BOOST_TEST(context_of(mine.error()).find("version 2 is in the log already")
             != std::string::npos);
  BOOST_TEST(stream_events("acct-1").size() == 2u);
}

BOOST_AUTO_TEST_CASE(a_handler_started_on_a_log_knows_its_streams) {
  // A first handler writes a history, then a second one starts on the same
  // log (as after a restart) with commands already waiting.
  start_handler(4);
  BOOST_REQUIRE(command_now(make_command("Open", "acct-1", 0, {{"owner", "ann"}})));
  for (std::uint64_t v = 1; v <= 9; ++v)
    BOOST_REQUIRE(command_now(make_command("Deposit", "acct-1", v, {{"amount", 10}})));
  self->send_exit(handler, caf::exit_reason::user_shutdown);
  run();
  start_handler(4);
  auto stale = send(make_command("Withdraw", "acct-1", 3, {{"amount", 1}}));
  auto fresh = send(make_command("Withdraw", "acct-1", 10, {{"amount", 25}}));
  auto streams = ask<std::uint64_t>(handler, ready_atom::value);
  BOOST_REQUIRE(streams);
  BOOST_TEST(*streams == 1u);
  BOOST_REQUIRE(stale->has_value());
  BOOST_TEST(code_of((**stale).error()) == errc::version_conflict);
  BOOST_REQUIRE(fresh->has_value());
  if (!**fresh)
    BOOST_FAIL(caf::to_string((**fresh).error()));
  BOOST_TEST((**fresh)->version == 11u);
  // The balance came back from snapshot plus tail: 90 - 25.
  auto overdraw = command_now(
    make_command("Withdraw", "acct-1", 11, {{"amount", 1000}}));
  BOOST_REQUIRE(!overdraw);
  BOOST_TEST(context_of(overdraw.error()) == "Withdraw: insufficient balance 65");
}

BOOST_AUTO_TEST_CASE(commands_on_many_streams_stay_within_the_bus_publish_limit) {
  // A bus that takes two publishes per publisher at a time.
  bus_options limited;
  limited.max_publishes_in_flight = 2;
  log = std::make_shared<memory_log>();
  bus = spawn_bus(sys, log, limited);
  run();
  // A read model the commands wait for, which runs only at the end: until
  // then the bus holds every publish that reached it.
  auto model = spawn_projector(sys, bus, bus::test::tally("opened", {"Opened"}));
  run();
  start_handler(4, publish_wait::projectors, 2);
  run();
  std::vector<answer> answers;
  for (int i = 0; i < 12; ++i)
    answers.push_back(
      send(make_command("Open", "acct-" + std::to_string(i), 0, {{"owner", "o"}})));
  auto* model_job = dynamic_cast<caf::resumable*>(
    caf::actor_cast<caf::abstract_actor*>(model));
  sched.run_jobs_filtered([&](caf::resumable* job) { return job != model_job; });
  run();
  for (auto& a : answers) {
    BOOST_REQUIRE(a->has_value());
    if (!**a)
      BOOST_FAIL(caf::to_string((**a).error()));
  }
  BOOST_TEST(log->head() == 12u);
}

BOOST_AUTO_TEST_SUITE_END()
