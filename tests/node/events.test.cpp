// Events through the node: idempotent redelivery, ids derived from the
// payload, the node-level subscription filter, what the read models hold
// afterwards, and replies in request order for a long mixed stream.

#include "node_protocol.hpp"

#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

using namespace bus::node::test;

namespace {

// updated_models naming both default models: as the node writes it, and as
// reply::json() renders it.
const std::string both_models = R"(["user_listing", "user_by_email"])";
const std::string both_models_json = R"(["user_listing","user_by_email"])";

std::string updated(long long msg_id, std::string_view event_id,
                    std::string_view models) {
  return "{\"type\": \"read_models_updated\", \"in_reply_to\": "
         + std::to_string(msg_id) + ", \"event_id\": \"" + std::string{event_id}
         + "\", \"updated_models\": " + std::string{models} + "}";
}

std::string skipped(long long msg_id, std::string_view event_id) {
  return "{\"type\": \"event_skipped\", \"in_reply_to\": " + std::to_string(msg_id)
         + ", \"event_id\": \"" + std::string{event_id}
         + "\", \"reason\": \"already_processed\"}";
}

std::string found(long long msg_id, std::string_view model, std::string_view key,
                  std::string_view value) {
  return "{\"type\": \"query_ok\", \"in_reply_to\": " + std::to_string(msg_id)
         + ", \"model\": \"" + std::string{model} + "\", \"key\": \"" + std::string{key}
         + "\", \"value\": " + std::string{value} + "}";
}

// Checks that `r` is the error reply "no such key" (code 20) to `msg_id`.
void check_not_found(const reply& r, long long msg_id) {
  BOOST_TEST_CONTEXT(r.line) {
    BOOST_TEST(r.text("type") == "error");
    BOOST_TEST(r.in_reply_to() == msg_id);
    BOOST_TEST(r.json("code") == "20");
  }
}

} // namespace

BOOST_AUTO_TEST_SUITE(events)

BOOST_AUTO_TEST_CASE(redelivered_event_is_skipped) {
  auto line = event(1, "UserCreated", R"({"id": "user-123", "name": "John"})");
  // The bus redelivers the very same line (msg_id included) twice.
  auto replies = replies_to(line + line + line + query(2, "user_listing", "user-123"));
  BOOST_REQUIRE_EQUAL(replies.size(), 4u);
  BOOST_TEST(replies[0].body_text() == updated(1, "evt-123", both_models));
  BOOST_TEST(replies[1].body_text() == skipped(1, "evt-123"));
  BOOST_TEST(replies[2].body_text() == skipped(1, "evt-123"));
  BOOST_TEST(
    replies[3].body_text()
    == found(2, "user_listing", "user-123", R"({"id": "user-123", "name": "John"})"));
}

BOOST_AUTO_TEST_CASE(different_event_deriving_a_taken_id_gets_its_own_id) {
  auto created = event(1, "UserCreated", R"({"id": "user-123", "name": "John"})");
  auto renamed = event(2, "UserUpdated", R"({"id": "user-123", "name": "Jack"})");
  auto replies = replies_to(created + renamed + renamed
                            + query(3, "user_listing", "user-123")
                            // Redelivered in a later run of events too.
                            + renamed + created);
  BOOST_REQUIRE_EQUAL(replies.size(), 6u);
  BOOST_TEST(replies[0].body_text() == updated(1, "evt-123", both_models));
  // The update is a different event: applied, under an id of its own.
  auto update_id = replies[1].text("event_id");
  BOOST_TEST(update_id.rfind("evt-123-", 0) == 0u, "event_id " << update_id);
  BOOST_TEST(replies[1].body_text() == updated(2, update_id, both_models));
  // Its redelivery maps to that same id and is skipped.
  BOOST_TEST(replies[2].body_text() == skipped(2, update_id));
  BOOST_TEST(
    replies[3].body_text()
    == found(3, "user_listing", "user-123", R"({"id": "user-123", "name": "Jack"})"));
  BOOST_TEST(replies[4].body_text() == skipped(2, update_id));
  BOOST_TEST(replies[5].body_text() == skipped(1, "evt-123"));
}

BOOST_AUTO_TEST_CASE(redelivery_with_reordered_payload_keys_is_skipped) {
  auto replies = replies_to(
    event(1, "UserCreated", R"({"id": "user-7", "name": "Ann"})")
    + event(2, "UserUpdated", R"({"id": "user-7", "name": "Bo", "age": 3})")
    + event(3, "UserUpdated", R"({"age": 3, "name": "Bo", "id": "user-7"})"));
  BOOST_REQUIRE_EQUAL(replies.size(), 3u);
  auto update_id = replies[1].text("event_id");
  BOOST_TEST(update_id.rfind("evt-7-", 0) == 0u, "event_id " << update_id);
  BOOST_TEST(replies[2].body_text() == skipped(3, update_id));
}

BOOST_AUTO_TEST_CASE(every_handled_type_updates_both_models_before_subscribe) {
  auto replies = replies_to(
    event(1, "UserCreated", R"({"id": "user-1", "email": "a@x"})")
    + event(2, "UserUpdated", R"({"id": "user-2", "email": "b@x"})")
    + event(3, "UserDeleted", R"({"id": "user-3"})"));
  BOOST_REQUIRE_EQUAL(replies.size(), 3u);
  BOOST_TEST(replies[0].body_text() == updated(1, "evt-1", both_models));
  BOOST_TEST(replies[1].body_text() == updated(2, "evt-2", both_models));
  BOOST_TEST(replies[2].body_text() == updated(3, "evt-3", both_models));
}

BOOST_AUTO_TEST_CASE(event_of_unsubscribed_type_is_acknowledged_not_applied) {
  auto replies = replies_to(
    subscribe(1, {"UserCreated"})
    + event(2, "UserCreated", R"({"id": "user-5", "name": "Eve"})")
    + event(3, "UserUpdated", R"({"id": "user-5", "name": "Mallory"})")
    + query(4, "user_listing", "user-5")
    + event(5, "UserCreated", R"({"id": "user-6", "name": "Dan"})"));
  BOOST_REQUIRE_EQUAL(replies.size(), 5u);
  BOOST_TEST(
    replies[0].body_text()
    == R"({"type": "subscribed", "in_reply_to": 1, "event_types": ["UserCreated"]})");
  BOOST_TEST(replies[1].body_text() == updated(2, "evt-5", both_models));
  BOOST_TEST(replies[2].text("type") == "read_models_updated");
  BOOST_TEST(replies[2].in_reply_to() == 3);
  BOOST_TEST(replies[2].json("updated_models") == "[]");
  BOOST_TEST(
    replies[3].body_text()
    == found(4, "user_listing", "user-5", R"({"id": "user-5", "name": "Eve"})"));
  // The subscribed type still goes through.
  BOOST_TEST(replies[4].body_text() == updated(5, "evt-6", both_models));
}

BOOST_AUTO_TEST_CASE(subscriptions_add_up) {
  auto replies = replies_to(
    subscribe(1, {"UserCreated"}) + subscribe(2, {"UserDeleted"})
    + event(3, "UserCreated", R"({"id": "user-1", "name": "A"})")
    + event(4, "UserUpdated", R"({"id": "user-1", "name": "B"})")
    + event(5, "UserDeleted", R"({"id": "user-1", "deleted": true})"));
  BOOST_REQUIRE_EQUAL(replies.size(), 5u);
  BOOST_TEST(replies[2].json("updated_models") == both_models_json);
  BOOST_TEST(replies[3].json("updated_models") == "[]");
  BOOST_TEST(replies[4].json("updated_models") == both_models_json);
}

BOOST_AUTO_TEST_CASE(unsubscribe_replies_unsubscribed_and_stops_the_type) {
  auto replies = replies_to(
    event(1, "UserCreated", R"({"id": "user-9", "name": "Ivy"})")
    + subscribe(2, {"UserDeleted", "UserUpdated"}, "unsubscribe")
    + event(3, "UserDeleted", R"({"id": "user-9", "reason": "gone"})")
    + query(4, "user_listing", "user-9")
    + event(5, "UserCreated", R"({"id": "user-10", "name": "Joe"})"));
  BOOST_REQUIRE_EQUAL(replies.size(), 5u);
  BOOST_TEST(replies[0].body_text() == updated(1, "evt-9", both_models));
  BOOST_TEST(
    replies[1].body_text()
    == R"({"type": "unsubscribed", "in_reply_to": 2, "event_types": ["UserDeleted", "UserUpdated"]})");
  BOOST_TEST(replies[2].text("type") == "read_models_updated");
  BOOST_TEST(replies[2].json("updated_models") == "[]");
  // The deletion was not applied: the user is still listed.
  BOOST_TEST(
    replies[3].body_text()
    == found(4, "user_listing", "user-9", R"({"id": "user-9", "name": "Ivy"})"));
  // Types not unsubscribed still update the models.
  BOOST_TEST(replies[4].body_text() == updated(5, "evt-10", both_models));
}

BOOST_AUTO_TEST_CASE(event_type_no_model_handles_updates_no_model) {
  auto replies = replies_to(
    event(1, "OrderShipped", R"({"id": "order-77", "carrier": "ups"})")
    + event(2, "OrderShipped", R"({"id": "order-77", "carrier": "ups"})"));
  BOOST_REQUIRE_EQUAL(replies.size(), 2u);
  BOOST_TEST(replies[0].body_text() == updated(1, "evt-77", "[]"));
  BOOST_TEST(replies[1].body_text() == skipped(2, "evt-77"));
}

BOOST_AUTO_TEST_CASE(user_by_email_follows_the_email) {
  auto replies = replies_to(
    // Created with an email, and one without.
    event(1, "UserCreated", R"({"id": "user-1", "name": "Ann", "email": "ann@x.org"})")
    + event(2, "UserCreated", R"({"id": "user-2", "name": "Bob"})")
    + query(3, "user_by_email", "ann@x.org")
    // An update without email keeps the entry.
    + event(4, "UserUpdated", R"({"id": "user-1", "name": "Anne"})")
    + query(5, "user_by_email", "ann@x.org")
    // A new email replaces the old one.
    + event(6, "UserUpdated", R"({"id": "user-1", "email": "anne@x.org"})")
    + query(7, "user_by_email", "anne@x.org")
    + query(8, "user_by_email", "ann@x.org")
    // The user without email gets one later.
    + event(9, "UserUpdated", R"({"id": "user-2", "email": "bob@x.org"})")
    + query(10, "user_by_email", "bob@x.org") + query(11, "user_listing", "user-1"));
  BOOST_REQUIRE_EQUAL(replies.size(), 11u);
  BOOST_TEST(replies[0].json("updated_models") == both_models_json);
  BOOST_TEST(replies[1].json("updated_models") == both_models_json);
  BOOST_TEST(replies[2].body_text()
             == found(3, "user_by_email", "ann@x.org", R"("user-1")"));
  BOOST_TEST(replies[4].body_text()
             == found(5, "user_by_email", "ann@x.org", R"("user-1")"));
  BOOST_TEST(replies[6].body_text()
             == found(7, "user_by_email", "anne@x.org", R"("user-1")"));
  check_not_found(replies[7], 8);
  BOOST_TEST(replies[9].body_text()
             == found(10, "user_by_email", "bob@x.org", R"("user-2")"));
  BOOST_TEST(replies[10].body_text()
             == found(11, "user_listing", "user-1",
                      R"({"id": "user-1", "name": "Anne", "email": "anne@x.org"})"));
}

BOOST_AUTO_TEST_CASE(user_deleted_removes_the_user_from_both_models) {
  auto replies = replies_to(
    event(1, "UserCreated", R"({"id": "user-4", "name": "Dee", "email": "dee@x.org"})")
    + query(2, "user_listing", "user-4")
    + event(3, "UserDeleted", R"({"id": "user-4"})")
    + query(4, "user_listing", "user-4") + query(5, "user_by_email", "dee@x.org"));
  BOOST_REQUIRE_EQUAL(replies.size(), 5u);
  BOOST_TEST(replies[1].text("type") == "query_ok");
  // The deletion derives the id of the creation but is a different event.
  auto delete_id = replies[2].text("event_id");
  BOOST_TEST(delete_id.rfind("evt-4-", 0) == 0u, "event_id " << delete_id);
  BOOST_TEST(replies[2].body_text() == updated(3, delete_id, both_models));
  check_not_found(replies[3], 4);
  check_not_found(replies[4], 5);
}

namespace {

// Sends 5,000 events over 10 users interleaved with queries and checks
// every reply in order. Each update gives its user the name "<user>/<k>"
// and the email "<user>.<k>@x" for the k-th update of that user, so a query
// tells exactly which events it saw.
void check_long_mixed_stream(const std::vector<std::string>& args) {
  constexpr int users = 10;
  constexpr int events = 5000;
  struct expectation {
    enum { event, name, email, old_email } kind;
    std::string event_id;
    std::string value;
  };
  std::string input;
  std::vector<expectation> expected;
  std::vector<int> updates(users, 0);
  long long msg_id = 0;
  for (int i = 0; i < events; ++i) {
    auto u = (i * 7) % users;
    auto user = "user-" + std::to_string(u);
    auto k = updates[static_cast<std::size_t>(u)]++;
    auto email = user + "." + std::to_string(k) + "@x";
    auto type = k == 0 ? "UserCreated" : "UserUpdated";
    auto id = "e-" + std::to_string(i);
    input += event(++msg_id, type,
                   R"({"id": ")" + user + R"(", "name": ")" + user + "/"
                     + std::to_string(k) + R"(", "email": ")" + email + "\"}",
                   id);
    expected.push_back({expectation::event, id, {}});
    // Queries at irregular gaps, some right after the event they check.
    if (i % 13 == 0 || i % 97 == 5) {
      input += query(++msg_id, "user_listing", user);
      expected.push_back({expectation::name, {}, user + "/" + std::to_string(k)});
    }
    if (i % 29 == 3) {
      input += query(++msg_id, "user_by_email", email);
      expected.push_back({expectation::email, {}, user});
    }
    if (i % 31 == 4 && k > 0) {
      auto previous = user + "." + std::to_string(k - 1) + "@x";
      input += query(++msg_id, "user_by_email", previous);
      expected.push_back({expectation::old_email, {}, {}});
    }
  }
  auto replies = replies_to(input, args);
  BOOST_REQUIRE_EQUAL(replies.size(), expected.size());
  std::size_t failures = 0;
  for (std::size_t j = 0; j < replies.size() && failures < 10; ++j) {
    auto& r = replies[j];
    auto& e = expected[j];
    auto ok = r.in_reply_to() == static_cast<long long>(j + 1);
    switch (e.kind) {
      case expectation::event:
        ok = ok && r.text("type") == "read_models_updated"
             && r.text("event_id") == e.event_id
             && r.json("updated_models") == both_models_json;
        break;
      case expectation::name:
        ok = ok && r.text("type") == "query_ok"
             && r.json("value").find("\"name\":\"" + e.value + "\"")
                  != std::string::npos;
        break;
      case expectation::email:
        ok = ok && r.text("type") == "query_ok" && r.text("value") == e.value;
        break;
      case expectation::old_email:
        ok = ok && r.text("type") == "error" && r.json("code") == "20";
        break;
    }
    if (!ok)
      ++failures;
    BOOST_TEST(ok, "reply " << j + 1 << " is " << r.line);
  }
}

} // namespace

BOOST_AUTO_TEST_CASE(replies_come_in_request_order_for_a_long_mixed_stream) {
  check_long_mixed_stream({});
}

BOOST_AUTO_TEST_CASE(small_batches_keep_replies_in_request_order) {
  // Many publishes in flight at once.
  check_long_mixed_stream({"--batch-size", "3"});
}

BOOST_AUTO_TEST_CASE(first_event_after_start_reaches_every_model) {
  // What a client of a freshly started node sees: its first event updates
  // both models, and a query right after it sees the event. Repeated on
  // fresh nodes, since the first event races the node's start-up.
  constexpr int runs = 200;
  int missed = 0;
  std::string example;
  for (int i = 0; i < runs; ++i) {
    auto replies = replies_to(
      event(1, "UserCreated", R"({"id": "user-123", "name": "John"})")
      + query(2, "user_listing", "user-123"));
    BOOST_REQUIRE_EQUAL(replies.size(), 2u);
    if (replies[0].body_text() != updated(1, "evt-123", both_models)
        || replies[1].text("type") != "query_ok") {
      if (missed++ == 0)
        example = replies[0].line + "\n" + replies[1].line;
    }
  }
  BOOST_TEST(missed == 0, missed << " of " << runs
                                 << " fresh nodes missed the first event, e.g.\n"
                                 << example);
}

BOOST_AUTO_TEST_SUITE_END()
