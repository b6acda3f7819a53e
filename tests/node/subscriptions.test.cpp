// The node-level subscription filter with the wildcard "*": it means every
// event type, as in the library's subscriptions, and unsubscribing a type
// under it, or "*" itself, narrows it (docs/protocol.md, "subscribe").

#include "node_protocol.hpp"

#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

using namespace bus::node::test;

namespace {

const std::string config_dir = BUS_CONFIG_DIR;

// updated_models naming both default models, as reply::json() renders it.
const std::string both_models = R"(["user_listing","user_by_email"])";

// Checks that `r` answers `msg_id` with read_models_updated naming `models`.
void check_updated(const reply& r, long long msg_id, const std::string& models) {
  BOOST_TEST_CONTEXT(r.line) {
    BOOST_TEST(r.text("type") == "read_models_updated");
    BOOST_TEST(r.in_reply_to() == msg_id);
    BOOST_TEST(r.json("updated_models") == models);
  }
}

// Checks that `r` answers `msg_id` with event_skipped: the event was
// logged before, so it was taken then.
void check_skipped(const reply& r, long long msg_id) {
  BOOST_TEST_CONTEXT(r.line) {
    BOOST_TEST(r.text("type") == "event_skipped");
    BOOST_TEST(r.in_reply_to() == msg_id);
  }
}

std::string status(long long msg_id) {
  return request(R"({"type": "status", "msg_id": )" + std::to_string(msg_id) + "}");
}

} // namespace

BOOST_AUTO_TEST_SUITE(subscriptions)

BOOST_AUTO_TEST_CASE(wildcard_subscribe_takes_every_event_type) {
  // The seed's envelope, as a projector sends it.
  auto replies = replies_to(
    R"({"src":"projector","dest":"eventbus","body":{"type":"subscribe","msg_id":1,"event_types":["*"]}})"
    "\n"
    + event(2, "UserCreated", R"({"id": "user-1", "email": "a@x"})", "e1")
    + event(3, "UserUpdated", R"({"id": "user-1", "name": "Ann"})", "e2")
    + event(4, "UserDeleted", R"({"id": "user-2"})", "e3") +
    // A type no model handles is taken too: logged, so its redelivery
    // is skipped.
    event(5, "OrderShipped", R"({"id": "order-1"})", "e4")
    + event(6, "OrderShipped", R"({"id": "order-1"})", "e4")
    + query(7, "user_listing", "user-1") + status(8));
  BOOST_REQUIRE_EQUAL(replies.size(), 8u);
  BOOST_TEST(replies[0].body_text()
             == R"({"type": "subscribed", "in_reply_to": 1, "event_types": ["*"]})");
  check_updated(replies[1], 2, both_models);
  check_updated(replies[2], 3, both_models);
  check_updated(replies[3], 4, both_models);
  check_updated(replies[4], 5, "[]");
  check_skipped(replies[5], 6);
  BOOST_TEST(replies[6].text("type") == "query_ok", replies[6].line);
  BOOST_TEST(replies[6].json("value")
               == R"({"id":"user-1","email":"a@x","name":"Ann"})",
             replies[6].line);
  BOOST_TEST(replies[7].json("head") == "4", replies[7].line);
}

BOOST_AUTO_TEST_CASE(wildcard_adds_to_earlier_subscriptions) {
  auto replies = replies_to(
    subscribe(1, {"UserCreated"}) + subscribe(2, {"*"})
    + event(3, "UserUpdated", R"({"id": "user-1", "name": "Ann"})", "e1") +
    // A later subscribe of a listed type leaves the wildcard in place.
    subscribe(4, {"UserCreated"})
    + event(5, "UserDeleted", R"({"id": "user-1"})", "e2"));
  BOOST_REQUIRE_EQUAL(replies.size(), 5u);
  check_updated(replies[2], 3, both_models);
  check_updated(replies[4], 5, both_models);
}

BOOST_AUTO_TEST_CASE(unsubscribing_a_type_under_the_wildcard_stops_only_that_type) {
  auto replies = replies_to(
    subscribe(1, {"*"}) + subscribe(2, {"UserUpdated"}, "unsubscribe")
    + event(3, "UserCreated", R"({"id": "user-1", "name": "Ann"})", "e1")
    + event(4, "UserUpdated", R"({"id": "user-1", "name": "Bo"})", "e2")
    + query(5, "user_listing", "user-1") +
    // Subscribing it again lifts the exception.
    subscribe(6, {"UserUpdated"})
    + event(7, "UserUpdated", R"({"id": "user-1", "name": "Cy"})", "e3")
    + query(8, "user_listing", "user-1") +
    // Every other type stays taken, handled by a model or not.
    event(9, "OrderShipped", R"({"id": "order-1"})", "e4")
    + event(10, "OrderShipped", R"({"id": "order-1"})", "e4"));
  BOOST_REQUIRE_EQUAL(replies.size(), 10u);
  BOOST_TEST(
    replies[1].body_text()
    == R"({"type": "unsubscribed", "in_reply_to": 2, "event_types": ["UserUpdated"]})");
  check_updated(replies[2], 3, both_models);
  check_updated(replies[3], 4, "[]");
  BOOST_TEST(replies[4].json("value") == R"({"id":"user-1","name":"Ann"})",
             replies[4].line);
  check_updated(replies[6], 7, both_models);
  BOOST_TEST(replies[7].json("value") == R"({"id":"user-1","name":"Cy"})",
             replies[7].line);
  check_updated(replies[8], 9, "[]");
  check_skipped(replies[9], 10);
}

BOOST_AUTO_TEST_CASE(unsubscribing_the_wildcard_stops_every_type) {
  auto replies = replies_to(
    subscribe(1, {"UserCreated"}) + subscribe(2, {"*"})
    + subscribe(3, {"*"}, "unsubscribe")
    + event(4, "UserCreated", R"({"id": "user-1", "name": "Ann"})", "e1")
    + event(5, "UserCreated", R"({"id": "user-1", "name": "Ann"})", "e1") +
    // From nothing, a subscribe takes its types again.
    subscribe(6, {"UserCreated"})
    + event(7, "UserCreated", R"({"id": "user-2", "name": "Bo"})", "e2")
    + event(8, "UserUpdated", R"({"id": "user-2", "name": "Cy"})", "e3"));
  BOOST_REQUIRE_EQUAL(replies.size(), 8u);
  BOOST_TEST(replies[2].body_text()
             == R"({"type": "unsubscribed", "in_reply_to": 3, "event_types": ["*"]})");
  // Not taken, so not logged: the second delivery is not a redelivery.
  check_updated(replies[3], 4, "[]");
  check_updated(replies[4], 5, "[]");
  check_updated(replies[6], 7, both_models);
  check_updated(replies[7], 8, "[]");
}

BOOST_AUTO_TEST_CASE(first_unsubscribe_narrows_every_type_even_without_local_models) {
  // A bus node whose models all live on other nodes handles no type
  // itself; unsubscribing one type must not stop the others.
  auto replies = replies_to(subscribe(1, {"UserDeleted"}, "unsubscribe")
                              + event(2, "UserCreated", R"({"id": "user-1"})", "e1")
                              + event(3, "UserCreated", R"({"id": "user-1"})", "e1")
                              + event(4, "UserDeleted", R"({"id": "user-1"})", "e2")
                              + event(5, "UserDeleted", R"({"id": "user-1"})", "e2"),
                            {"--config", config_dir + "/bus-only.json"});
  BOOST_REQUIRE_EQUAL(replies.size(), 5u);
  check_updated(replies[1], 2, "[]");
  check_skipped(replies[2], 3);
  check_updated(replies[3], 4, "[]");
  check_updated(replies[4], 5, "[]");
}

BOOST_AUTO_TEST_SUITE_END()
