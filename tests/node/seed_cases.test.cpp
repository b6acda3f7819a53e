// The sample cases of the protocol seed (seed 000), each in its own run of
// the node: reply bodies must match the seed's expected output byte for
// byte, and the envelope must go back to where the request came from.

#include "node_protocol.hpp"

#include <boost/test/unit_test.hpp>

using namespace bus::node::test;

namespace {

// The seed's inputs, one JSON document per line as the node reads them.
constexpr const char* subscribe_case
  = R"({"src": "projector", "dest": "eventbus", "body": {"type": "subscribe", "msg_id": 1, "event_types": ["UserCreated", "UserUpdated"]}})";

constexpr const char* event_case
  = R"({"src": "eventbus", "dest": "projector", "body": {"type": "event", "msg_id": 1, "event": {"type": "UserCreated", "payload": {"id": "user-123", "name": "John"}}}})";

} // namespace

BOOST_AUTO_TEST_SUITE(seed_cases)

BOOST_AUTO_TEST_CASE(subscribe_to_events_replies_subscribed) {
  auto replies = replies_to(std::string{subscribe_case} + "\n");
  BOOST_REQUIRE_EQUAL(replies.size(), 1u);
  BOOST_TEST(
    replies[0].body_text()
    == R"({"type": "subscribed", "in_reply_to": 1, "event_types": ["UserCreated", "UserUpdated"]})");
  BOOST_TEST(replies[0].envelope.at("src") == "eventbus");
  BOOST_TEST(replies[0].envelope.at("dest") == "projector");
}

BOOST_AUTO_TEST_CASE(event_updates_read_models) {
  auto replies = replies_to(std::string{event_case} + "\n");
  BOOST_REQUIRE_EQUAL(replies.size(), 1u);
  BOOST_TEST(
    replies[0].body_text()
    == R"({"type": "read_models_updated", "in_reply_to": 1, "event_id": "evt-123", "updated_models": ["user_listing", "user_by_email"]})");
  BOOST_TEST(replies[0].envelope.at("src") == "projector");
  BOOST_TEST(replies[0].envelope.at("dest") == "eventbus");
}

BOOST_AUTO_TEST_CASE(redelivery_with_explicit_id_is_skipped) {
  // The seed's walk-through: subscribe, the event, then the bus delivers
  // the same event again, this time with its id and a shorter payload.
  auto replies = replies_to(
    request(
      R"({"type": "subscribe", "msg_id": 1, "event_types": ["UserCreated", "UserUpdated"]})")
    + request(
      R"({"type": "event", "msg_id": 2, "event": {"type": "UserCreated", "payload": {"id": "user-123", "name": "John"}}})")
    + request(
      R"({"type": "event", "msg_id": 3, "event": {"type": "UserCreated", "id": "evt-123", "payload": {"id": "user-123"}}})"));
  BOOST_REQUIRE_EQUAL(replies.size(), 3u);
  BOOST_TEST(
    replies[0].body_text()
    == R"({"type": "subscribed", "in_reply_to": 1, "event_types": ["UserCreated", "UserUpdated"]})");
  BOOST_TEST(
    replies[1].body_text()
    == R"({"type": "read_models_updated", "in_reply_to": 2, "event_id": "evt-123", "updated_models": ["user_listing", "user_by_email"]})");
  BOOST_TEST(
    replies[2].body_text()
    == R"({"type": "event_skipped", "in_reply_to": 3, "event_id": "evt-123", "reason": "already_processed"})");
  for (auto& r : replies) {
    BOOST_TEST(r.envelope.at("src") == node_name.data());
    BOOST_TEST(r.envelope.at("dest") == client_name.data());
  }
}

BOOST_AUTO_TEST_SUITE_END()
