// The await request: waiting until the read models have applied up to a seq.

#include <boost/test/unit_test.hpp>

#include <string>

#include "node_protocol.hpp"

using namespace bus::node::test;

namespace {

std::string user_created(long long msg_id, std::string_view user) {
  return event(msg_id, "UserCreated",
               R"({"id": ")" + std::string{user} + R"(", "email": ")"
                 + std::string{user} + R"(@x"})");
}

std::string await(long long msg_id, std::string_view fields) {
  return request(R"({"type": "await", "msg_id": )" + std::to_string(msg_id)
                 + std::string{fields} + "}");
}

} // namespace

BOOST_AUTO_TEST_SUITE(node_await)

BOOST_AUTO_TEST_CASE(await_answers_with_every_models_checkpoint) {
  auto replies = replies_to(user_created(1, "u1") + user_created(2, "u2")
                            + await(3, R"(, "seq": 2)")
                            + await(4, R"(, "seq": 1, "model": "user_listing")"));
  BOOST_REQUIRE_EQUAL(replies.size(), 4u);
  BOOST_TEST(replies[2].body_text()
             == R"({"type": "await_ok", "in_reply_to": 3, "seq": 2, )"
                R"("checkpoints": {"user_by_email": 2, "user_listing": 2}})");
  BOOST_TEST(replies[3].body_text()
             == R"({"type": "await_ok", "in_reply_to": 4, "seq": 1, )"
                R"("checkpoints": {"user_listing": 2}})");
}

BOOST_AUTO_TEST_CASE(a_model_still_behind_at_the_timeout_is_named) {
  auto replies = replies_to(user_created(1, "u1")
                            + request(R"({"type": "pause", "msg_id": 2, )"
                                      R"("model": "user_listing"})")
                            + user_created(3, "u2")
                            + await(4, R"(, "seq": 2, "timeout_ms": 50)"));
  BOOST_REQUIRE_EQUAL(replies.size(), 4u);
  BOOST_TEST(replies[3].text("type") == "error");
  BOOST_TEST(replies[3].json("code") == "11");
  BOOST_TEST(replies[3].text("text")
             == "read models still behind seq 2 after 50 ms: 'user_listing' at "
                "checkpoint 1 (paused)");
}

BOOST_AUTO_TEST_CASE(an_unknown_model_or_a_malformed_await_is_an_error) {
  auto replies = replies_to(await(1, R"(, "seq": 1, "model": "nowhere")") + await(2, "")
                            + await(3, R"(, "seq": -1)")
                            + await(4, R"(, "seq": 1, "timeout_ms": 0)")
                            + await(5, R"(, "seq": 1, "model": 7)"));
  BOOST_REQUIRE_EQUAL(replies.size(), 5u);
  BOOST_TEST(replies[0].json("code") == "20");
  BOOST_TEST(replies[0].text("text") == "no read model named 'nowhere'");
  BOOST_TEST(replies[1].text("text") == "body.seq must be a non-negative integer");
  BOOST_TEST(replies[2].json("code") == "12");
  BOOST_TEST(replies[3].text("text")
             == "body.timeout_ms must be an integer from 1 to 3600000");
  BOOST_TEST(replies[4].json("code") == "12");
}

BOOST_AUTO_TEST_SUITE_END()
