// Requests the node cannot serve: each gets an error reply with the
// protocol's code (10 unknown type, 12 malformed, 20 no such model or key)
// and a text, in request order, and the node goes on with the next request.

#include "node_protocol.hpp"

#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

using namespace bus::node::test;

namespace {

// Checks that `r` is an error reply with `code`, a non-empty text and
// in_reply_to `in_reply_to` (JSON text, e.g. "7" or "null").
void check_error(const reply& r, std::string_view in_reply_to, int code) {
  BOOST_TEST_CONTEXT(r.line) {
    auto prefix = "{\"type\": \"error\", \"in_reply_to\": " + std::string{in_reply_to}
                  + ", \"code\": " + std::to_string(code) + ", \"text\": \"";
    auto text = r.body_text();
    BOOST_TEST(text.rfind(prefix, 0) == 0u);
    BOOST_TEST(r.body.size() == 4u);
    BOOST_TEST(r.body.contains("text"));
    BOOST_TEST(r.text("text").size() > 0u);
    BOOST_TEST(r.envelope.at("src") == node_name.data());
    BOOST_TEST(r.envelope.at("dest") == client_name.data());
  }
}

// Sends each body in `bodies` (JSON text) as a request, then an init with
// msg_id 1000; checks one error reply per body, each with `code` and
// in_reply_to `in_reply_to`, and that the init is still answered.
void check_each_is_error(const std::vector<std::string>& bodies,
                         std::string_view in_reply_to, int code) {
  std::string input;
  for (auto& body : bodies)
    input += request(body);
  input += init(1000);
  auto replies = replies_to(input);
  BOOST_REQUIRE_EQUAL(replies.size(), bodies.size() + 1);
  for (std::size_t i = 0; i < bodies.size(); ++i)
    BOOST_TEST_CONTEXT("request body " << bodies[i]) {
      check_error(replies[i], in_reply_to, code);
    }
  BOOST_TEST(replies.back().body_text()
             == R"({"type": "init_ok", "in_reply_to": 1000})");
}

} // namespace

BOOST_AUTO_TEST_SUITE(errors)

BOOST_AUTO_TEST_CASE(init_replies_init_ok) {
  auto replies = replies_to(init(1) + init(2));
  BOOST_REQUIRE_EQUAL(replies.size(), 2u);
  BOOST_TEST(replies[0].body_text() == R"({"type": "init_ok", "in_reply_to": 1})");
  BOOST_TEST(replies[1].body_text() == R"({"type": "init_ok", "in_reply_to": 2})");
  BOOST_TEST(replies[0].envelope.at("src") == node_name.data());
  BOOST_TEST(replies[0].envelope.at("dest") == client_name.data());
}

BOOST_AUTO_TEST_CASE(unknown_message_type_is_error_10) {
  check_each_is_error({R"({"type": "frobnicate", "msg_id": 7})",
                       R"({"type": "Subscribe", "msg_id": 7})"},
                      "7", 10);
}

BOOST_AUTO_TEST_CASE(missing_or_non_object_body_is_error_12) {
  // No body to take a msg_id from: in_reply_to is null.
  auto replies = replies_to(R"({"src": "client", "dest": "node"})"
                            "\n"
                            R"({"src": "client", "dest": "node", "body": "init"})"
                            "\n"
                            R"({"src": "client", "dest": "node", "body": [1, 2]})"
                            "\n"
                            R"({"src": "client", "dest": "node", "body": null})"
                            "\n"
                            R"({"src": "client", "dest": "node", "body": 5})"
                            "\n"
                            + init(1000));
  BOOST_REQUIRE_EQUAL(replies.size(), 6u);
  for (std::size_t i = 0; i < 5; ++i)
    check_error(replies[i], "null", 12);
  BOOST_TEST(replies[5].text("type") == "init_ok");
}

BOOST_AUTO_TEST_CASE(envelope_without_string_src_and_dest_is_error_12) {
  auto replies = replies_to(
    R"({"dest": "node", "body": {"type": "init", "msg_id": 1, "node_id": "n1", "node_ids": []}})"
    "\n"
    R"({"src": "client", "body": {"type": "init", "msg_id": 2, "node_id": "n1", "node_ids": []}})"
    "\n"
    R"({"src": 3, "dest": "node", "body": {"type": "init", "msg_id": 3, "node_id": "n1", "node_ids": []}})"
    "\n"
    + init(4));
  BOOST_REQUIRE_EQUAL(replies.size(), 4u);
  for (std::size_t i = 0; i < 3; ++i) {
    BOOST_TEST(replies[i].text("type") == "error", replies[i].line);
    BOOST_TEST(replies[i].json("code") == "12", replies[i].line);
    BOOST_TEST(replies[i].in_reply_to() == static_cast<long long>(i + 1));
  }
  BOOST_TEST(replies[3].text("type") == "init_ok");
}

BOOST_AUTO_TEST_CASE(missing_msg_id_is_error_12_in_reply_to_null) {
  check_each_is_error(
    {R"({"type": "init", "node_id": "n1", "node_ids": ["n1"]})",
     R"({"type": "query", "model": "user_listing", "key": "user-1"})",
     R"({"type": "event", "event": {"type": "UserCreated", "payload": {"id": "user-1"}}})"},
    "null", 12);
}

BOOST_AUTO_TEST_CASE(ill_typed_msg_id_is_error_12) {
  for (auto msg_id : {"true", "1.5", "[1]", "{}", "null"}) {
    auto replies = replies_to(
      request(
        std::string{R"({"type": "init", "node_id": "n1", "node_ids": [], "msg_id": )"}
        + msg_id + "}")
      + init(1000));
    BOOST_REQUIRE_EQUAL(replies.size(), 2u);
    BOOST_TEST_CONTEXT("msg_id " << msg_id) {
      BOOST_TEST(replies[0].text("type") == "error", replies[0].line);
      BOOST_TEST(replies[0].json("code") == "12", replies[0].line);
      BOOST_TEST(replies[0].text("text").size() > 0u);
      BOOST_TEST(replies[1].text("type") == "init_ok");
    }
  }
}

BOOST_AUTO_TEST_CASE(missing_or_ill_typed_type_is_error_12) {
  check_each_is_error({R"({"msg_id": 3})", R"({"msg_id": 3, "type": 5})",
                       R"({"msg_id": 3, "type": null})",
                       R"({"msg_id": 3, "type": ["init"]})"},
                      "3", 12);
}

BOOST_AUTO_TEST_CASE(event_without_event_object_is_error_12) {
  check_each_is_error({R"({"type": "event", "msg_id": 4})",
                       R"({"type": "event", "msg_id": 4, "event": "UserCreated"})",
                       R"({"type": "event", "msg_id": 4, "event": [1]})",
                       R"({"type": "event", "msg_id": 4, "event": null})"},
                      "4", 12);
}

BOOST_AUTO_TEST_CASE(event_without_string_type_is_error_12) {
  check_each_is_error(
    {R"({"type": "event", "msg_id": 5, "event": {"payload": {"id": "user-1"}}})",
     R"({"type": "event", "msg_id": 5, "event": {"type": 1, "payload": {"id": "user-1"}}})",
     R"({"type": "event", "msg_id": 5, "event": {"type": "", "payload": {"id": "user-1"}}})",
     R"({"type": "event", "msg_id": 5, "event": {"type": null, "payload": {"id": "user-1"}}})"},
    "5", 12);
}

BOOST_AUTO_TEST_CASE(event_without_object_payload_is_error_12) {
  check_each_is_error(
    {R"({"type": "event", "msg_id": 6, "event": {"type": "UserCreated", "id": "e-1"}})",
     R"({"type": "event", "msg_id": 6, "event": {"type": "UserCreated", "id": "e-1", "payload": "user-1"}})",
     R"({"type": "event", "msg_id": 6, "event": {"type": "UserCreated", "id": "e-1", "payload": [{"id": "user-1"}]}})",
     R"({"type": "event", "msg_id": 6, "event": {"type": "UserCreated", "id": "e-1", "payload": null}})"},
    "6", 12);
}

BOOST_AUTO_TEST_CASE(event_with_non_string_id_is_error_12) {
  check_each_is_error(
    {R"({"type": "event", "msg_id": 7, "event": {"type": "UserCreated", "id": 123, "payload": {"id": "user-1"}}})",
     R"({"type": "event", "msg_id": 7, "event": {"type": "UserCreated", "id": null, "payload": {"id": "user-1"}}})",
     R"({"type": "event", "msg_id": 7, "event": {"type": "UserCreated", "id": {"v": 1}, "payload": {"id": "user-1"}}})",
     R"({"type": "event", "msg_id": 7, "event": {"type": "UserCreated", "id": "", "payload": {"id": "user-1"}}})"},
    "7", 12);
}

BOOST_AUTO_TEST_CASE(event_without_any_id_is_error_12) {
  check_each_is_error(
    {R"({"type": "event", "msg_id": 8, "event": {"type": "UserCreated", "payload": {}}})",
     R"({"type": "event", "msg_id": 8, "event": {"type": "UserCreated", "payload": {"name": "Ann"}}})",
     R"({"type": "event", "msg_id": 8, "event": {"type": "UserCreated", "payload": {"id": ""}}})",
     R"({"type": "event", "msg_id": 8, "event": {"type": "UserCreated", "payload": {"id": null}}})",
     R"({"type": "event", "msg_id": 8, "event": {"type": "UserCreated", "payload": {"id": {"n": 1}}}})"},
    "8", 12);
}

BOOST_AUTO_TEST_CASE(rejected_event_is_not_applied) {
  // A malformed event with a usable payload.id claims nothing: the valid
  // event after it gets the derived id and the models never saw the first.
  auto replies = replies_to(
    request(
      R"({"type": "event", "msg_id": 1, "event": {"type": "UserCreated", "id": 5, "payload": {"id": "user-1", "name": "Bad"}}})")
    + event(2, "UserCreated", R"({"id": "user-1", "name": "Good"})")
    + query(3, "user_listing", "user-1"));
  BOOST_REQUIRE_EQUAL(replies.size(), 3u);
  check_error(replies[0], "1", 12);
  BOOST_TEST(
    replies[1].body_text()
    == R"({"type": "read_models_updated", "in_reply_to": 2, "event_id": "evt-1", "updated_models": ["user_listing", "user_by_email"]})");
  BOOST_TEST(
    replies[2].body_text()
    == R"({"type": "query_ok", "in_reply_to": 3, "model": "user_listing", "key": "user-1", "value": {"id": "user-1", "name": "Good"}})");
}

BOOST_AUTO_TEST_CASE(subscribe_without_string_array_is_error_12) {
  for (auto type : {"subscribe", "unsubscribe"}) {
    BOOST_TEST_CONTEXT(type) {
      auto t = std::string{type};
      check_each_is_error(
        {R"({"type": ")" + t + R"(", "msg_id": 9})",
         R"({"type": ")" + t + R"(", "msg_id": 9, "event_types": "UserCreated"})",
         R"({"type": ")" + t
           + R"(", "msg_id": 9, "event_types": {"UserCreated": true}})",
         R"({"type": ")" + t + R"(", "msg_id": 9, "event_types": ["UserCreated", 1]})",
         R"({"type": ")" + t + R"(", "msg_id": 9, "event_types": [null]})"},
        "9", 12);
    }
  }
}

BOOST_AUTO_TEST_CASE(rejected_subscribe_leaves_the_filter_alone) {
  // Had the subscribe been taken, UserUpdated would no longer apply.
  auto replies = replies_to(
    request(R"({"type": "subscribe", "msg_id": 1, "event_types": ["UserCreated", 2]})")
    + event(2, "UserUpdated", R"({"id": "user-1", "name": "A"})"));
  BOOST_REQUIRE_EQUAL(replies.size(), 2u);
  check_error(replies[0], "1", 12);
  BOOST_TEST(replies[1].json("updated_models")
             == R"(["user_listing","user_by_email"])");
}

BOOST_AUTO_TEST_CASE(query_without_model_or_key_is_error_12) {
  check_each_is_error(
    {R"({"type": "query", "msg_id": 11, "key": "user-1"})",
     R"({"type": "query", "msg_id": 11, "model": "user_listing"})",
     R"({"type": "query", "msg_id": 11, "model": 3, "key": "user-1"})",
     R"({"type": "query", "msg_id": 11, "model": "user_listing", "key": true})",
     R"({"type": "query", "msg_id": 11, "model": "user_listing", "key": null})",
     R"({"type": "query", "msg_id": 11, "model": "user_listing", "key": ["user-1"]})"},
    "11", 12);
}

BOOST_AUTO_TEST_CASE(init_without_node_id_or_node_ids_is_error_12) {
  check_each_is_error(
    {R"({"type": "init", "msg_id": 12, "node_ids": ["n1"]})",
     R"({"type": "init", "msg_id": 12, "node_id": "n1"})",
     R"({"type": "init", "msg_id": 12, "node_id": 1, "node_ids": ["n1"]})",
     R"({"type": "init", "msg_id": 12, "node_id": "n1", "node_ids": "n1"})",
     R"({"type": "init", "msg_id": 12, "node_id": "n1", "node_ids": ["n1", 2]})"},
    "12", 12);
}

BOOST_AUTO_TEST_CASE(query_of_unknown_model_or_key_is_error_20) {
  auto replies = replies_to(
    event(1, "UserCreated", R"({"id": "user-1", "email": "a@x"})")
    + query(2, "no_such_model", "user-1") + query(3, "user_listing", "user-2")
    + query(4, "user_by_email", "b@x") + query(5, "user_listing", "user-1"));
  BOOST_REQUIRE_EQUAL(replies.size(), 5u);
  check_error(replies[1], "2", 20);
  check_error(replies[2], "3", 20);
  check_error(replies[3], "4", 20);
  BOOST_TEST(replies[4].text("type") == "query_ok");
}

BOOST_AUTO_TEST_SUITE_END()
