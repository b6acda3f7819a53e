// Operating a running node: status, pause, resume, rebuild.

#include <boost/test/unit_test.hpp>

#include <string>

#include "node_protocol.hpp"

using namespace bus::node::test;

namespace {

std::string control(long long msg_id, std::string_view type,
                    std::string_view model = {}) {
  std::string body = R"({"type": ")" + std::string{type} + R"(", "msg_id": )"
                     + std::to_string(msg_id);
  if (!model.empty())
    body += R"(, "model": ")" + std::string{model} + "\"";
  return request(body + "}");
}

std::string user_event(long long msg_id, std::string_view type, std::string_view user,
                       std::string_view fields) {
  return event(msg_id, type,
               R"({"id": ")" + std::string{user} + "\"" + std::string{fields} + "}");
}

} // namespace

BOOST_AUTO_TEST_SUITE(lifecycle)

BOOST_AUTO_TEST_CASE(status_reports_head_checkpoints_and_lag) {
  auto replies = replies_to(
    user_event(1, "UserCreated", "user-1", R"(, "email": "a@x")")
    + user_event(2, "OrderPlaced", "order-1", "") + control(3, "status"));
  BOOST_REQUIRE_EQUAL(replies.size(), 3u);
  auto& st = replies[2];
  BOOST_TEST(st.text("type") == "status_ok");
  BOOST_TEST(st.in_reply_to() == 3);
  BOOST_TEST(st.json("head") == "2");
  auto& models = st.body.at("read_models").as_array();
  BOOST_REQUIRE_EQUAL(models.size(), 2u);
  BOOST_TEST(models[0].at("model").as_string() == "user_listing");
  BOOST_TEST(models[1].at("model").as_string() == "user_by_email");
  for (auto& m : models) {
    BOOST_TEST(m.at("state").as_string() == "running");
    BOOST_TEST(m.at("checkpoint").as_int64() == 2);
    BOOST_TEST(m.at("lag_events").as_int64() == 0);
    BOOST_TEST(m.at("applied").as_int64() == 1);
  }
}

BOOST_AUTO_TEST_CASE(paused_model_takes_nothing_answers_frozen_and_resumes) {
  auto replies = replies_to(
    user_event(1, "UserCreated", "user-1", R"(, "name": "Ann")")
    + control(2, "pause", "user_listing")
    + user_event(3, "UserUpdated", "user-1", R"(, "name": "Bea")")
    + query(4, "user_listing", "user-1") + control(5, "status")
    + control(6, "resume", "user_listing") + query(7, "user_listing", "user-1")
    + user_event(8, "UserUpdated", "user-1", R"(, "name": "Cid")")
    + query(9, "user_listing", "user-1"));
  BOOST_REQUIRE_EQUAL(replies.size(), 9u);
  BOOST_TEST(replies[1].text("type") == "paused");
  BOOST_TEST(replies[1].text("state") == "paused");
  // The paused model is not among the models that took the update...
  BOOST_TEST(replies[2].json("updated_models") == R"(["user_by_email"])");
  // ...answers from its frozen state, and shows its lag.
  BOOST_TEST(replies[3].body.at("value").at("name").as_string() == "Ann");
  auto& listing = replies[4].body.at("read_models").as_array()[0];
  BOOST_TEST(listing.at("state").as_string() == "paused");
  BOOST_TEST(listing.at("lag_events").as_int64() == 1);
  // Resumed, it has caught up with what it missed, then runs live.
  BOOST_TEST(replies[5].text("type") == "resumed");
  BOOST_TEST(replies[5].text("state") == "running");
  BOOST_TEST(replies[6].body.at("value").at("name").as_string() == "Bea");
  BOOST_TEST(replies[7].json("updated_models")
             == R"(["user_listing","user_by_email"])");
  BOOST_TEST(replies[8].body.at("value").at("name").as_string() == "Cid");
}

BOOST_AUTO_TEST_CASE(rebuild_reprojects_and_ends_in_the_same_state) {
  std::string input;
  long long id = 1;
  for (int u = 0; u < 50; ++u)
    input += user_event(id++, "UserCreated", "user-" + std::to_string(u),
                        R"(, "email": "u)" + std::to_string(u) + R"(@x")");
  input += query(id++, "user_by_email", "u7@x");
  input += control(id++, "rebuild", "user_by_email");
  // An event after the rebuild waits for it: once answered, it is done.
  input += user_event(id++, "UserUpdated", "user-7", R"(, "email": "seven@x")");
  input += query(id++, "user_by_email", "seven@x");
  input += query(id++, "user_by_email", "u8@x");
  input += query(id++, "user_by_email", "u7@x");
  input += control(id++, "status");
  auto replies = replies_to(input);
  BOOST_REQUIRE_EQUAL(replies.size(), 57u);
  BOOST_TEST(replies[50].json("value") == R"("user-7")");
  BOOST_TEST(replies[51].text("type") == "rebuilding");
  BOOST_TEST(replies[52].json("updated_models")
             == R"(["user_listing","user_by_email"])");
  BOOST_TEST(replies[53].json("value") == R"("user-7")");
  BOOST_TEST(replies[54].json("value") == R"("user-8")");
  BOOST_TEST(replies[55].json("code") == "20"); // the old email is gone
  auto& by_email = replies[56].body.at("read_models").as_array()[1];
  BOOST_TEST(by_email.at("state").as_string() == "running");
  BOOST_TEST(by_email.at("rebuilds").as_int64() == 1);
  BOOST_TEST(by_email.at("checkpoint").as_int64() == 51);
}

BOOST_AUTO_TEST_CASE(restart_replaces_a_model_which_then_answers_from_the_same_state) {
  auto replies = replies_to(
    user_event(1, "UserCreated", "user-1", R"(, "name": "Ann")")
    + control(2, "restart", "user_listing") + query(3, "user_listing", "user-1")
    + user_event(4, "UserUpdated", "user-1", R"(, "name": "Bea")")
    + query(5, "user_listing", "user-1") + control(6, "status")
    + control(7, "restart", "nope") + control(8, "restart"));
  BOOST_REQUIRE_EQUAL(replies.size(), 8u);
  BOOST_TEST(replies[1].text("type") == "restart_ok");
  BOOST_TEST(replies[1].text("model") == "user_listing");
  // Answered once the new projector has caught up: queries see everything.
  BOOST_TEST(replies[1].text("state") == "running");
  BOOST_TEST(replies[2].body.at("value").at("name").as_string() == "Ann");
  BOOST_TEST(replies[3].json("updated_models")
             == R"(["user_listing","user_by_email"])");
  BOOST_TEST(replies[4].body.at("value").at("name").as_string() == "Bea");
  for (auto& m : replies[5].body.at("read_models").as_array()) {
    BOOST_TEST(m.at("state").as_string() == "running");
    BOOST_TEST(m.at("parked").as_int64() == 0);
    BOOST_TEST(m.at("stalled_ms").as_int64() == 0);
    BOOST_TEST(m.at("restarts").as_int64() == 0); // failures only
  }
  BOOST_TEST(replies[6].json("code") == "20");
  BOOST_TEST(replies[7].json("code") == "12");
}

BOOST_AUTO_TEST_CASE(lifecycle_of_an_unknown_model_is_error_20_and_missing_model_12) {
  auto replies = replies_to(control(1, "pause", "nope") + control(2, "rebuild")
                            + control(3, "resume", "nope"));
  BOOST_REQUIRE_EQUAL(replies.size(), 3u);
  BOOST_TEST(replies[0].json("code") == "20");
  BOOST_TEST(replies[1].json("code") == "12");
  BOOST_TEST(replies[2].json("code") == "20");
}

BOOST_AUTO_TEST_SUITE_END()
