// The bookkeeping of a point-to-point channel: one holder per message,
// credit per receiver, redelivery when a receiver leaves or times out, and
// nothing settled ever handed out again.

#include "bus/channel_ledger.hpp"

#include <boost/test/unit_test.hpp>

using bus::ack_outcome;
using bus::channel_ledger;
using bus::delivery_state;
using bus::dispatch;

namespace {

std::string holders(const std::vector<dispatch>& xs) {
  std::string out;
  for (auto& x : xs)
    out += std::to_string(x.message) + "->" + std::to_string(x.receiver) + "#"
           + std::to_string(x.attempt) + " ";
  return out;
}

// The state of message `id` by name, "forgotten" when the ledger has none.
std::string state(const channel_ledger& l, std::uint64_t id) {
  auto x = l.state_of(id);
  return x ? bus::to_string(*x) : "forgotten";
}

} // namespace

BOOST_AUTO_TEST_SUITE(channel_ledger_suite)

BOOST_AUTO_TEST_CASE(messages_wait_until_a_receiver_joins) {
  channel_ledger l;
  auto a = l.add();
  auto b = l.add();
  BOOST_TEST(a == 1u);
  BOOST_TEST(b == 2u);
  BOOST_TEST(l.assign().empty());
  BOOST_TEST(l.pending() == 2u);
  BOOST_TEST(state(l, a) == "pending");
  l.add_receiver(7, 10);
  BOOST_TEST(holders(l.assign()) == "1->7#1 2->7#1 ");
  BOOST_TEST(state(l, a) == "in_flight");
  BOOST_TEST((l.holder_of(b) == std::uint64_t{7}));
  BOOST_TEST(l.in_flight() == 2u);
}

BOOST_AUTO_TEST_CASE(receivers_take_turns_within_their_credit) {
  channel_ledger l;
  l.add_receiver(1, 1);
  l.add_receiver(2, 2);
  for (int i = 0; i < 5; ++i)
    l.add();
  // Round-robin while credit lasts; message 4 and 5 wait for credit.
  BOOST_TEST(holders(l.assign()) == "1->1#1 2->2#1 3->2#1 ");
  BOOST_TEST(l.pending() == 2u);
  BOOST_TEST((l.ack(2) == ack_outcome::acked));
  BOOST_TEST(holders(l.assign()) == "4->2#1 ");
  BOOST_TEST((l.ack(1) == ack_outcome::acked));
  BOOST_TEST(holders(l.assign()) == "5->1#1 ");
}

BOOST_AUTO_TEST_CASE(a_leaving_receiver_gives_back_what_it_held) {
  channel_ledger l;
  l.add_receiver(1, 5);
  l.add_receiver(2, 5);
  l.add();
  l.add();
  l.add();
  BOOST_TEST(holders(l.assign()) == "1->1#1 2->2#1 3->1#1 ");
  BOOST_TEST((l.ack(1) == ack_outcome::acked));
  auto back = l.remove_receiver(1);
  BOOST_TEST(back == std::vector<std::uint64_t>{3}); // 1 was acked: not back
  BOOST_TEST(state(l, 3) == "pending");
  BOOST_TEST(holders(l.assign()) == "3->2#2 ");
  BOOST_TEST(l.redelivered() == 1u);
  // The last receiver leaves: its messages wait, nothing is lost.
  l.remove_receiver(2);
  BOOST_TEST(l.pending() == 2u);
  BOOST_TEST(l.assign().empty());
  l.add_receiver(3, 5);
  BOOST_TEST(holders(l.assign()) == "2->3#2 3->3#3 ");
}

BOOST_AUTO_TEST_CASE(an_acked_message_is_never_handed_out_again) {
  channel_ledger l;
  l.add_receiver(1, 5);
  l.add();
  l.assign();
  BOOST_TEST((l.ack(1) == ack_outcome::acked));
  BOOST_TEST((l.ack(1) == ack_outcome::already_settled));
  BOOST_TEST(l.remove_receiver(1).empty());
  BOOST_TEST(!l.expire_delivery(1, 1));
  BOOST_TEST(!l.expire(1));
  l.add_receiver(2, 5);
  BOOST_TEST(l.assign().empty());
  BOOST_TEST(l.acked() == 1u);
  BOOST_TEST((l.ack(99) == ack_outcome::unknown));
}

BOOST_AUTO_TEST_CASE(a_timed_out_delivery_goes_to_another_receiver_first) {
  channel_ledger l;
  l.add_receiver(1, 5);
  l.add_receiver(2, 5);
  l.add();
  l.add();
  BOOST_TEST(holders(l.assign()) == "1->1#1 2->2#1 ");
  // A stale timer (of an earlier attempt) changes nothing.
  BOOST_TEST(!l.expire_delivery(1, 7));
  BOOST_TEST(l.expire_delivery(1, 1));
  BOOST_TEST(state(l, 1) == "pending");
  BOOST_TEST(!l.holder_of(1));
  // Round-robin would pick receiver 1 next: it skips the one that timed out.
  BOOST_TEST(holders(l.assign()) == "1->2#2 ");
  BOOST_TEST(l.redelivered() == 1u);
}

BOOST_AUTO_TEST_CASE(the_only_receiver_gets_its_timed_out_message_again) {
  channel_ledger l;
  l.add_receiver(1, 1);
  l.add();
  l.assign();
  BOOST_TEST(l.expire_delivery(1, 1));
  BOOST_TEST(holders(l.assign()) == "1->1#2 ");
}

BOOST_AUTO_TEST_CASE(an_expired_message_is_settled_and_frees_its_credit) {
  channel_ledger l;
  l.add_receiver(1, 1);
  l.add();
  l.add();
  BOOST_TEST(holders(l.assign()) == "1->1#1 ");
  BOOST_TEST(l.expire(1));
  BOOST_TEST(l.expire(2)); // a pending one too
  BOOST_TEST(l.pending() == 0u);
  BOOST_TEST(l.in_flight() == 0u);
  BOOST_TEST((l.ack(1) == ack_outcome::already_settled));
  l.add();
  BOOST_TEST(holders(l.assign()) == "3->1#1 ");
  BOOST_TEST(l.expired() == 2u);
}

BOOST_AUTO_TEST_CASE(settled_messages_are_forgotten_behind_the_oldest_live_one) {
  channel_ledger l;
  l.add_receiver(1, 10);
  for (int i = 0; i < 3; ++i)
    l.add();
  l.assign();
  l.ack(2);
  BOOST_TEST(state(l, 2) == "acked"); // 1 still live
  l.ack(1);
  BOOST_TEST(state(l, 1) == "forgotten");
  BOOST_TEST(state(l, 2) == "forgotten");
  BOOST_TEST(state(l, 3) == "in_flight");
  BOOST_TEST((l.ack(2) == ack_outcome::already_settled));
}

BOOST_AUTO_TEST_CASE(states_have_names) {
  BOOST_TEST(bus::to_string(delivery_state::pending) == "pending");
  BOOST_TEST(bus::to_string(delivery_state::in_flight) == "in_flight");
  BOOST_TEST(bus::to_string(delivery_state::acked) == "acked");
  BOOST_TEST(bus::to_string(delivery_state::expired) == "expired");
}

BOOST_AUTO_TEST_SUITE_END()
