// Blue/green rebuild over the protocol: rebuild with "mode": "blue_green",
// rollback, discard, their errors, and a restart on a store after a switch.

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <random>
#include <string>

#include "node_protocol.hpp"

using namespace bus::node::test;

namespace {

std::string control(long long msg_id, std::string_view type, std::string_view model,
                    std::string_view extra = {}) {
  return request(R"({"type": ")" + std::string{type} + R"(", "msg_id": )"
                 + std::to_string(msg_id) + R"(, "model": ")" + std::string{model}
                 + "\"" + std::string{extra} + "}");
}

// user_by_email redefined: keyed by name instead of email.
constexpr std::string_view by_name
  = R"(, "mode": "blue_green", "definition": {"kind": "index", "key": "name", "target": "id", "set_on": ["UserCreated", "UserUpdated"], "delete_on": ["UserDeleted"]})";

std::string users(long long& msg_id, int n) {
  std::string input;
  for (int u = 0; u < n; ++u)
    input += event(msg_id++, "UserCreated",
                   R"({"id": "user-)" + std::to_string(u) + R"(", "name": "User )"
                     + std::to_string(u) + R"(", "email": "u)" + std::to_string(u)
                     + R"(@x"})");
  return input;
}

struct scratch_store {
  std::filesystem::path dir;
  scratch_store() {
    std::random_device rd;
    dir = std::filesystem::temp_directory_path()
          / ("bus-blue-green-test-" + std::to_string(rd()));
    std::filesystem::create_directories(dir);
  }
  ~scratch_store() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::string path() const { return (dir / "bus.db").string(); }
};

} // namespace

BOOST_AUTO_TEST_SUITE(blue_green)

BOOST_AUTO_TEST_CASE(switch_then_rollback_then_nothing_left) {
  long long id = 1;
  auto input = users(id, 40);                    // replies 0..39
  input += query(id++, "user_by_email", "u7@x"); // 40
  input += control(id++, "rebuild", "user_by_email",
                   std::string{by_name} + R"(, "await": true)"); // 41
  input += query(id++, "user_by_email", "User 7");               // 42
  input += query(id++, "user_by_email", "u7@x");                 // 43
  input += event(id++, "UserUpdated",
                 R"({"id": "user-7", "name": "Seven", "email": "seven@x"})"); // 44
  input += query(id++, "user_by_email", "Seven");                             // 45
  input += request(R"({"type": "status", "msg_id": )" + std::to_string(id++)
                   + "}");                             // 46
  input += control(id++, "rollback", "user_by_email"); // 47
  input += query(id++, "user_by_email", "seven@x");    // 48
  input += query(id++, "user_by_email", "Seven");      // 49
  input += control(id++, "rollback", "user_by_email"); // 50
  input += control(id++, "discard", "user_by_email");  // 51
  input += request(R"({"type": "status", "msg_id": )" + std::to_string(id++)
                   + "}"); // 52
  auto replies = replies_to(input);
  BOOST_REQUIRE_EQUAL(replies.size(), 53u);
  BOOST_TEST(replies[40].json("value") == R"("user-7")");
  BOOST_TEST(replies[41].text("type") == "switched");
  BOOST_TEST(replies[41].text("mode") == "blue_green");
  BOOST_TEST(replies[41].text("state") == "running");
  // Switched: the new definition answers, the old key is gone.
  BOOST_TEST(replies[42].json("value") == R"("user-7")");
  BOOST_TEST(replies[43].json("code") == "20");
  BOOST_TEST(replies[44].json("updated_models")
             == R"(["user_listing","user_by_email"])");
  BOOST_TEST(replies[45].json("value") == R"("user-7")");
  // Status: the old projector is kept, paused, one event behind.
  auto& by_email = replies[46].body.at("read_models").as_array()[1].as_object();
  BOOST_TEST(by_email.at("state").as_string() == "running");
  BOOST_TEST(by_email.at("checkpoint").as_int64() == 41);
  BOOST_REQUIRE(by_email.contains("previous"));
  BOOST_TEST(by_email.at("previous").at("state").as_string() == "paused");
  BOOST_TEST(by_email.at("previous").at("lag_events").as_int64() == 1);
  BOOST_TEST(!by_email.contains("shadow"));
  // Rolled back: the old definition, caught up with the update it missed.
  BOOST_TEST(replies[47].text("type") == "rolled_back");
  BOOST_TEST(replies[47].text("state") == "running");
  BOOST_TEST(replies[48].json("value") == R"("user-7")");
  BOOST_TEST(replies[49].json("code") == "20");
  // The rollback stopped the new projector: nothing to roll back or discard.
  BOOST_TEST(replies[50].json("code") == "22");
  BOOST_TEST(replies[51].json("code") == "22");
  auto& after = replies[52].body.at("read_models").as_array()[1].as_object();
  BOOST_TEST(!after.contains("previous"));
  BOOST_TEST(after.at("checkpoint").as_int64() == 41);
}

BOOST_AUTO_TEST_CASE(discard_keeps_the_new_definition_for_good) {
  long long id = 1;
  auto input = users(id, 5); // 0..4
  input += control(id++, "rebuild", "user_by_email",
                   std::string{by_name} + R"(, "await": true)"); // 5
  input += control(id++, "discard", "user_by_email");            // 6
  input += event(id++, "UserCreated",
                 R"({"id": "user-9", "name": "Nine", "email": "nine@x"})"); // 7
  input += query(id++, "user_by_email", "Nine");                            // 8
  input += control(id++, "rollback", "user_by_email");                      // 9
  auto replies = replies_to(input);
  BOOST_REQUIRE_EQUAL(replies.size(), 10u);
  BOOST_TEST(replies[5].text("type") == "switched");
  BOOST_TEST(replies[6].text("type") == "discarded");
  BOOST_TEST(replies[6].text("discarded") == "previous");
  BOOST_TEST(replies[8].json("value") == R"("user-9")");
  BOOST_TEST(replies[9].json("code") == "22");
}

BOOST_AUTO_TEST_CASE(without_await_the_rebuild_is_answered_at_once_and_events_go_on) {
  long long id = 1;
  auto input = users(id, 200);                                 // 0..199
  input += control(id++, "rebuild", "user_by_email", by_name); // 200
  for (int u = 200; u < 260; ++u)                              // 201..260
    input += event(id++, "UserCreated",
                   R"({"id": "user-)" + std::to_string(u) + R"(", "name": "User )"
                     + std::to_string(u) + R"(", "email": "u)" + std::to_string(u)
                     + R"(@x"})");
  input += request(R"({"type": "status", "msg_id": )" + std::to_string(id++)
                   + "}"); // 261
  auto replies = replies_to(input);
  BOOST_REQUIRE_EQUAL(replies.size(), 262u);
  BOOST_TEST(replies[200].text("type") == "rebuilding");
  BOOST_TEST(replies[200].text("mode") == "blue_green");
  BOOST_TEST(replies[200].text("state") == "catching_up");
  // Every event is applied by the model, whichever projector serves it.
  for (std::size_t i = 201; i < 261; ++i)
    BOOST_TEST(replies[i].json("updated_models")
               == R"(["user_listing","user_by_email"])");
  // The rebuild is under way (a shadow) or done (the old one is kept).
  auto& by_email = replies[261].body.at("read_models").as_array()[1].as_object();
  BOOST_TEST((by_email.contains("shadow") || by_email.contains("previous")));
  BOOST_TEST(by_email.at("checkpoint").as_int64() == 260);
}

BOOST_AUTO_TEST_CASE(bad_blue_green_requests_are_errors_12_20_22) {
  long long id = 1;
  auto input = users(id, 3);                          // 0..2
  input += control(id++, "rebuild", "nope", by_name); // 3
  input += control(
    id++, "rebuild", "user_by_email",
    R"(, "mode": "blue_green", "definition": {"kind": "index", "key": "name"})");  // 4
  input += control(id++, "rebuild", "user_by_email", R"(, "mode": "sideways")");   // 5
  input += control(id++, "rebuild", "user_by_email", R"(, "mode": "blue_green")"); // 6
  input += control(
    id++, "rebuild", "user_by_email",
    R"(, "mode": "blue_green", "definition": {"name": "other", "kind": "index", "key": "name", "target": "id", "set_on": ["UserCreated"]})"); // 7
  input += control(id++, "rebuild", "user_by_email",
                   std::string{by_name} + R"(, "await": "yes")"); // 8
  input += control(id++, "rollback", "user_by_email");            // 9
  input += control(id++, "discard", "nope");                      // 10
  input += request(R"({"type": "rollback", "msg_id": )" + std::to_string(id++)
                   + "}");                                     // 11
  input += control(id++, "rebuild", "user_by_email", by_name); // 12
  input += control(id++, "rebuild", "user_by_email", by_name); // 13
  // A partition's name (with no name in the definition): 12 before, about
  // a definition name the request never sent.
  input += control(id++, "rebuild", "user_by_email#2", by_name); // 14
  auto replies = replies_to(input);
  BOOST_REQUIRE_EQUAL(replies.size(), 15u);
  BOOST_TEST(replies[3].json("code") == "20");
  BOOST_TEST(replies[4].json("code") == "12");
  BOOST_TEST(replies[4].text("text") == "body.definition.target: missing");
  BOOST_TEST(replies[5].json("code") == "12");
  BOOST_TEST(replies[6].json("code") == "12");
  BOOST_TEST(replies[7].json("code") == "12");
  BOOST_TEST(replies[8].json("code") == "12");
  BOOST_TEST(replies[9].json("code") == "22");
  BOOST_TEST(replies[10].json("code") == "20");
  BOOST_TEST(replies[11].json("code") == "12");
  BOOST_TEST(replies[12].text("type") == "rebuilding");
  // One rebuild at a time: the first is still under way or kept for rollback.
  BOOST_TEST(replies[13].json("code") == "22");
  BOOST_TEST(replies[14].json("code") == "22");
  BOOST_TEST(replies[14].text("text").find("one of its partitions")
             != std::string::npos);
}

BOOST_AUTO_TEST_CASE(restart_on_a_store_after_a_switch_runs_the_configured_definition) {
  scratch_store store;
  std::vector<std::string> args{"--store", store.path(), "--snapshot-every", "1"};
  long long id = 1;
  auto input = users(id, 10); // 0..9
  input += control(id++, "rebuild", "user_by_email",
                   std::string{by_name} + R"(, "await": true)"); // 10
  input += event(id++, "UserCreated",
                 R"({"id": "user-10", "name": "Ten", "email": "ten@x"})"); // 11
  input += query(id++, "user_by_email", "Ten");                            // 12
  auto first = replies_to(input, args);
  BOOST_REQUIRE_EQUAL(first.size(), 13u);
  BOOST_TEST(first[10].text("type") == "switched");
  BOOST_TEST(first[12].json("value") == R"("user-10")");
  // The switch lasts for the process: restarted with the same configuration,
  // the node runs the configured definition, and its state is that of the
  // configured definition (the new definition's snapshot is not restored
  // into it).
  auto second = replies_to(query(1, "user_by_email", "ten@x")
                             + query(2, "user_by_email", "u3@x")
                             + query(3, "user_by_email", "Ten"),
                           args);
  BOOST_REQUIRE_EQUAL(second.size(), 3u);
  BOOST_TEST(second[0].json("value") == R"("user-10")");
  BOOST_TEST(second[1].json("value") == R"("user-3")");
  BOOST_TEST(second[2].json("code") == "20");
}

BOOST_AUTO_TEST_SUITE_END()
