// A point-to-point channel: every message goes to one receiver, stays the
// channel's until acked, and moves to another receiver when its receiver
// dies, leaves or does not ack in time; nothing acked is delivered again.

#include "bus/actors/channel.hpp"

#include <map>
#include <set>

#include "bus/errc.hpp"
#include "support/channel_fixture.hpp"

using namespace std::chrono_literals;
using namespace bus;
using namespace bus::actors;
using namespace bus::test;

namespace {

channel_options holding_at_most(std::uint64_t n) {
  channel_options options;
  options.max_unsettled = n;
  return options;
}

// A channel that holds at most two messages not yet acked.
struct small_channel : channel_fixture {
  small_channel() : channel_fixture(holding_at_most(2)) {
    // nop
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(channel, channel_fixture)

BOOST_AUTO_TEST_CASE(each_message_goes_to_exactly_one_competing_receiver) {
  auto a = receiver("a", true);
  auto b = receiver("b", true);
  auto c = receiver("c", true);
  join(a, 1);
  join(b, 1);
  join(c, 1);
  std::set<std::uint64_t> ids;
  for (int i = 0; i < 9; ++i)
    ids.insert(enqueue("m" + std::to_string(i)));
  BOOST_TEST(ids.size() == 9u);
  std::map<std::uint64_t, int> times_taken;
  std::map<std::string, int> per_receiver;
  for (auto& t : *takes) {
    ++times_taken[t.message.id];
    ++per_receiver[t.receiver];
    BOOST_TEST(t.message.body == "m" + std::to_string(t.message.id - 1));
  }
  BOOST_TEST(times_taken.size() == 9u);
  for (auto& [id, n] : times_taken)
    BOOST_TEST(n == 1, "message " << id << " taken " << n << " times");
  // Competing: the work is shared.
  BOOST_TEST(per_receiver["a"] == 3);
  BOOST_TEST(per_receiver["b"] == 3);
  BOOST_TEST(per_receiver["c"] == 3);
  auto s = status();
  BOOST_TEST(s.acked == 9u);
  BOOST_TEST(s.in_flight == 0u);
  BOOST_TEST(s.redelivered == 0u);
}

BOOST_AUTO_TEST_CASE(messages_wait_for_a_receiver) {
  enqueue("x");
  enqueue("y");
  BOOST_TEST(status().pending == 2u);
  auto a = receiver("a");
  join(a);
  BOOST_TEST(deliveries() == "a:1#1 a:2#1 ");
  BOOST_TEST(status().pending == 0u);
  BOOST_TEST(status().in_flight == 2u);
}

BOOST_AUTO_TEST_CASE(a_receiver_that_dies_before_acking_has_its_message_redelivered) {
  auto a = receiver("a");
  auto b = receiver("b");
  join(a, 1);
  join(b, 1);
  enqueue("one");
  enqueue("two");
  BOOST_TEST(deliveries() == "a:1#1 b:2#1 ");
  kill(a);
  // b is busy with message 2 (credit 1): message 1 waits for it.
  BOOST_TEST(deliveries() == "a:1#1 b:2#1 ");
  BOOST_TEST(status().pending == 1u);
  BOOST_TEST(status().receivers == 1u);
  ack(b, 2);
  BOOST_TEST(deliveries() == "a:1#1 b:2#1 b:1#2 ");
  BOOST_TEST(takes->back().message.body == "one");
  ack(b, 1);
  auto s = status();
  BOOST_TEST(s.acked == 2u);
  BOOST_TEST(s.redelivered == 1u);
  BOOST_TEST(s.in_flight == 0u);
}

BOOST_AUTO_TEST_CASE(an_acked_message_is_never_redelivered) {
  auto a = receiver("a");
  auto b = receiver("b");
  join(a);
  enqueue("one");
  ack(a, 1);
  join(b);
  kill(a);
  sched.advance_time(60s); // past every ack timeout
  run();
  BOOST_TEST(deliveries() == "a:1#1 ");
  BOOST_TEST(status().acked == 1u);
  BOOST_TEST(status().redelivered == 0u);
}

BOOST_AUTO_TEST_CASE(a_delivery_not_acked_in_time_goes_to_another_receiver) {
  auto a = receiver("a");
  auto b = receiver("b");
  join(a);
  join(b);
  enqueue("one");
  BOOST_TEST(deliveries() == "a:1#1 ");
  sched.advance_time(29s);
  run();
  BOOST_TEST(deliveries() == "a:1#1 ");
  sched.advance_time(1s); // the default ack timeout: 30 s
  run();
  BOOST_TEST(deliveries() == "a:1#1 b:1#2 ");
  BOOST_TEST(status().ack_timeouts == 1u);
  // At least once: the slow receiver still acks, and that settles it.
  ack(a, 1);
  BOOST_TEST(status().acked == 1u);
  ack(b, 1);
  sched.advance_time(60s);
  run();
  BOOST_TEST(deliveries() == "a:1#1 b:1#2 ");
  BOOST_TEST(status().acked == 1u);
  BOOST_TEST(status().ack_timeouts == 1u);
}

BOOST_AUTO_TEST_CASE(credit_bounds_what_a_receiver_holds) {
  auto a = receiver("a");
  join(a, 2);
  enqueue("1");
  enqueue("2");
  enqueue("3");
  BOOST_TEST(deliveries() == "a:1#1 a:2#1 ");
  BOOST_TEST(status().pending == 1u);
  ack(a, 2);
  BOOST_TEST(deliveries() == "a:1#1 a:2#1 a:3#1 ");
}

BOOST_AUTO_TEST_CASE(a_leaving_receiver_hands_back_what_it_holds) {
  auto a = receiver("a");
  auto b = receiver("b");
  join(a);
  enqueue("one");
  join(b);
  auto s = ask<channel_status>(channel, leave_atom::value, channel_receiver_actor{a});
  BOOST_REQUIRE(s);
  BOOST_TEST(s->receivers == 1u);
  BOOST_TEST(deliveries() == "a:1#1 b:1#2 ");
}

BOOST_AUTO_TEST_CASE(with_every_receiver_dead_messages_wait_for_the_next) {
  auto a = receiver("a");
  join(a);
  enqueue("one");
  kill(a);
  enqueue("two");
  BOOST_TEST(status().pending == 2u);
  auto b = receiver("b");
  join(b);
  BOOST_TEST(deliveries() == "a:1#1 b:1#2 b:2#1 ");
}

BOOST_AUTO_TEST_CASE(bad_joins_get_clear_errors) {
  auto a = receiver("a");
  auto zero = ask<channel_status>(channel, join_atom::value, channel_receiver_actor{a},
                                  std::uint32_t{0});
  BOOST_REQUIRE(!zero);
  BOOST_TEST(code_of(zero.error()) == errc::precondition_failed);
  join(a);
  auto twice = ask<channel_status>(channel, join_atom::value, channel_receiver_actor{a},
                                   std::uint32_t{1});
  BOOST_REQUIRE(!twice);
  BOOST_TEST(context_of(twice.error()) == "join: the receiver has joined");
  auto none = ask<channel_status>(channel, join_atom::value, channel_receiver_actor{},
                                  std::uint32_t{1});
  BOOST_REQUIRE(!none);
  BOOST_TEST(code_of(none.error()) == errc::precondition_failed);
}

BOOST_AUTO_TEST_CASE(an_ack_from_an_outsider_is_ignored) {
  auto a = receiver("a");
  auto outsider = receiver("outsider");
  join(a);
  enqueue("one");
  ack(outsider, 1);
  BOOST_TEST(status().stray_acks == 1u);
  BOOST_TEST(status().in_flight == 1u);
  BOOST_TEST(status().acked == 0u);
}

BOOST_FIXTURE_TEST_CASE(a_full_channel_refuses_messages_until_one_is_acked,
                        small_channel) {
  auto a = receiver("a");
  join(a, 1);
  enqueue("one"); // in flight
  enqueue("two"); // pending
  auto refused = ask<std::uint64_t>(channel, enqueue_atom::value, std::string{"three"});
  BOOST_REQUIRE(!refused);
  BOOST_TEST(code_of(refused.error()) == errc::overloaded);
  auto request = this->request("c-1", "four", 10s);
  run();
  BOOST_REQUIRE(*request);
  BOOST_TEST(code_of((**request).error()) == errc::overloaded);
  BOOST_TEST(status().pending == 1u); // nothing of the refused was taken
  ack(a, 1);
  BOOST_TEST(enqueue("three") == 3u);
  BOOST_TEST(deliveries() == "a:1#1 a:2#1 ");
}

BOOST_AUTO_TEST_SUITE_END()
