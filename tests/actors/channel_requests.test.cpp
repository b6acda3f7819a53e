// Request-reply through a channel: replies reach their requesters by
// correlation, an unanswered request fails with no_reply at its timeout,
// and a late or mismatched reply is dropped, never delivered elsewhere.

#include "bus/actors/channel.hpp"

#include "bus/errc.hpp"
#include "support/channel_fixture.hpp"

using namespace std::chrono_literals;
using namespace bus;
using namespace bus::actors;
using namespace bus::test;

namespace {

using reply_cell = std::shared_ptr<std::optional<caf::expected<channel_reply>>>;

struct requests_fixture : channel_fixture {
  /// Makes `r` answer the message it took with `id`, echoing its
  /// correlation id, and runs.
  void answer(const scripted_receiver& r, std::uint64_t id, std::string body) {
    for (auto& t : *takes)
      if (t.message.id == id) {
        self->send(r, reply_atom::value,
                   channel_reply{id, t.message.correlation_id, std::move(body)});
        run();
        return;
      }
    BOOST_FAIL("no message " << id << " was taken");
  }

  static std::string reply_of(const reply_cell& cell) {
    if (!*cell)
      return "(waiting)";
    if (!**cell)
      return "error " + to_string(code_of((**cell).error()));
    return (***cell).correlation_id + "=" + (***cell).body;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(channel_requests, requests_fixture)

BOOST_AUTO_TEST_CASE(replies_reach_their_requesters_with_interleaved_correlation_ids) {
  auto a = receiver("a");
  auto b = receiver("b");
  join(a);
  join(b);
  auto first = request("c-1", "what is 1", 10s);
  auto second = request("c-2", "what is 2", 10s);
  auto third = request("c-3", "what is 3", 10s);
  run();
  BOOST_REQUIRE_EQUAL(takes->size(), 3u);
  for (auto& t : *takes)
    BOOST_TEST(t.message.correlation_id == "c-" + t.message.body.substr(8));
  // Answered out of order, by different receivers.
  for (auto i : {2u, 0u, 1u}) {
    auto& t = (*takes)[i];
    answer(t.receiver == "a" ? a : b, t.message.id, "answer to " + t.message.body);
  }
  BOOST_TEST(reply_of(first) == "c-1=answer to what is 1");
  BOOST_TEST(reply_of(second) == "c-2=answer to what is 2");
  BOOST_TEST(reply_of(third) == "c-3=answer to what is 3");
  auto s = status();
  BOOST_TEST(s.acked == 3u); // a reply acks its request
  BOOST_TEST(s.requests_waiting == 0u);
  BOOST_TEST(s.dropped_replies == 0u);
}

BOOST_AUTO_TEST_CASE(an_unanswered_request_fails_with_no_reply_at_its_timeout) {
  auto a = receiver("a");
  join(a);
  auto cell = request("c-1", "hello", 2s);
  run();
  sched.advance_time(1999ms);
  run();
  BOOST_TEST(reply_of(cell) == "(waiting)");
  sched.advance_time(1ms);
  run();
  BOOST_TEST(reply_of(cell) == "error no_reply");
  BOOST_TEST(context_of((**cell).error())
             == "request 'c-1' got no reply within 2000 ms");
  auto s = status();
  BOOST_TEST(s.expired_requests == 1u);
  BOOST_TEST(s.in_flight == 0u); // the receiver's credit is free again
  // An expired request is not delivered again, not even past the ack timeout.
  sched.advance_time(60s);
  run();
  BOOST_TEST(deliveries() == "a:1#1 ");
}

BOOST_AUTO_TEST_CASE(a_request_with_no_receiver_times_out_too) {
  auto cell = request("c-1", "hello", 2s);
  run();
  sched.advance_time(2s);
  run();
  BOOST_TEST(reply_of(cell) == "error no_reply");
  // A receiver joining later does not get the expired request.
  auto a = receiver("a");
  join(a);
  BOOST_TEST(deliveries() == "");
}

BOOST_AUTO_TEST_CASE(a_late_reply_is_dropped_and_never_reaches_another_requester) {
  auto a = receiver("a");
  join(a);
  auto old_one = request("same", "old", 2s);
  run();
  sched.advance_time(2s);
  run();
  BOOST_TEST(reply_of(old_one) == "error no_reply");
  // A new request reuses the correlation id; the old reply comes late.
  auto new_one = request("same", "new", 10s);
  run();
  BOOST_TEST(deliveries() == "a:1#1 a:2#1 ");
  answer(a, 1, "reply to old");
  BOOST_TEST(reply_of(new_one) == "(waiting)");
  BOOST_TEST(status().dropped_replies == 1u);
  answer(a, 2, "reply to new");
  BOOST_TEST(reply_of(new_one) == "same=reply to new");
  // A second reply to an answered request is dropped as well.
  answer(a, 2, "again");
  BOOST_TEST(status().dropped_replies == 2u);
}

BOOST_AUTO_TEST_CASE(a_reply_naming_another_correlation_id_is_dropped) {
  auto a = receiver("a");
  join(a);
  auto cell = request("c-1", "hello", 10s);
  run();
  self->send(a, reply_atom::value, channel_reply{1, "c-2", "forged"});
  run();
  BOOST_TEST(reply_of(cell) == "(waiting)");
  BOOST_TEST(status().dropped_replies == 1u);
  answer(a, 1, "real");
  BOOST_TEST(reply_of(cell) == "c-1=real");
}

BOOST_AUTO_TEST_CASE(a_request_whose_receiver_dies_is_answered_by_another) {
  auto a = receiver("a");
  auto b = receiver("b");
  join(a);
  join(b);
  auto cell = request("c-1", "hello", 10s);
  run();
  kill(a);
  BOOST_TEST(deliveries() == "a:1#1 b:1#2 ");
  answer(b, 1, "from b");
  BOOST_TEST(reply_of(cell) == "c-1=from b");
}

BOOST_AUTO_TEST_CASE(bad_requests_get_clear_errors) {
  auto no_id = request("", "hello", 10s);
  auto no_time = request("c-1", "hello", caf::timespan{0});
  run();
  BOOST_TEST(reply_of(no_id) == "error precondition_failed");
  BOOST_TEST(reply_of(no_time) == "error precondition_failed");
  BOOST_TEST(status().pending == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
