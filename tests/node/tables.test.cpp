// bus-node with read models persisted to SQLite tables ("storage": "sqlite"):
// restarts and SIGKILLs on the same store, against folds of the log.

#include <boost/test/unit_test.hpp>

#include <csignal>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <boost/json/value.hpp>

#include "node_protocol.hpp"
#include "user_stream.hpp"

using namespace bus::node::test;

namespace {

// The shipped models, both kept in tables.
constexpr const char* table_config = R"({"read_models": [
  {"name": "user_listing", "kind": "document", "key": "id", "storage": "sqlite",
   "merge_on": ["UserCreated", "UserUpdated"], "delete_on": ["UserDeleted"]},
  {"name": "user_by_email", "kind": "index", "key": "email", "target": "id",
   "storage": "sqlite", "set_on": ["UserCreated", "UserUpdated"],
   "delete_on": ["UserDeleted"]}]})";

} // namespace

BOOST_AUTO_TEST_SUITE(tables)

BOOST_AUTO_TEST_CASE(sigkill_mid_stream_leaves_tables_equal_to_a_fold_of_the_log) {
  scratch_dir dir;
  auto config = dir.write("node.json", table_config);
  constexpr std::size_t users = 200;
  auto stream = make_stream(6000, users, 10);
  auto emails = some_emails(stream, 300);
  auto input = requests(stream, users) + email_queries(emails);
  std::vector<std::string> args{"--config", config, "--store", dir.store()};
  auto acknowledged = crash_repeatedly(args, input, stream, {400u, 2700u, 5200u});
  BOOST_TEST(acknowledged.size() > 100u);
  BOOST_TEST(std::filesystem::exists(dir.store() + ".models"));
  auto final_run = replies_to(input, args);
  check_acknowledged_skipped(final_run, stream, acknowledged);
  check_queries(final_run, stream.size(), stream, users, emails);
}

BOOST_AUTO_TEST_CASE(restart_loads_the_tables_and_applies_only_new_events) {
  scratch_dir dir;
  auto config = dir.write("node.json", table_config);
  constexpr std::size_t users = 50;
  auto stream = make_stream(1200, users, 0);
  std::vector<user_event> first_part(stream.begin(), stream.begin() + 1000);
  // No snapshots: the tables alone must bring the models back.
  std::vector<std::string> args{"--config",         config, "--store", dir.store(),
                                "--snapshot-every", "0"};
  auto first = replies_to(requests(first_part, users), args);
  BOOST_REQUIRE_EQUAL(first.size(), 1050u);
  auto emails = some_emails(stream, 100);
  auto second = replies_to(requests(stream, users) + email_queries(emails)
                             + request(R"({"type": "status", "msg_id": 7})"),
                           args);
  BOOST_REQUIRE_EQUAL(second.size(), 1200u + users + emails.size() + 1);
  for (std::size_t i = 0; i < 1000; ++i)
    BOOST_TEST(second[i].text("type") == "event_skipped");
  for (std::size_t i = 1000; i < 1200; ++i)
    BOOST_TEST(second[i].text("type") == "read_models_updated");
  // Each model took the 200 new events and nothing of the first 1000: it
  // came back from its table, with no replay of the log.
  for (auto& m : second.back().body.at("read_models").as_array()) {
    BOOST_TEST(m.at("checkpoint").as_int64() == 1200, m);
    BOOST_TEST(m.at("applied").as_int64() == 200, m);
  }
  second.pop_back();
  check_queries(second, 1200, stream, users, emails);
  // Once more with no input: nothing at all to apply.
  auto third = replies_to(request(R"({"type": "status", "msg_id": 7})"), args);
  BOOST_REQUIRE_EQUAL(third.size(), 1u);
  for (auto& m : third[0].body.at("read_models").as_array()) {
    BOOST_TEST(m.at("checkpoint").as_int64() == 1200, m);
    BOOST_TEST(m.at("applied").as_int64() == 0, m);
    BOOST_TEST(m.at("state").as_string() == "running", m);
  }
}

BOOST_AUTO_TEST_CASE(unknown_storage_exits_2_naming_the_field) {
  scratch_dir dir;
  auto config = dir.write("node.json", R"({"read_models": [{"name": "m",
    "kind": "document", "key": "id", "merge_on": ["A"], "storage": "disk"}]})");
  auto result = run_node("", {"--config", config});
  BOOST_TEST(result.exit_code == 2);
  BOOST_TEST(result.err.find("read_models[0].storage") != std::string::npos,
             result.err);
  BOOST_TEST(result.out.empty());
}

BOOST_AUTO_TEST_SUITE_END()
