// bus-node on a PostgreSQL store (--store postgresql://...): a restart on
// the same database gives back the log, and the read models restored from
// their snapshots in it (or rebuilt from the log without them), or loaded
// from their tables in it ("storage": "sqlite"); and a pause that a leader
// whose lease moved on cannot keep is not acknowledged.

#include <boost/test/unit_test.hpp>

#include <set>
#include <string>
#include <vector>

#include "node_child.hpp"
#include "node_process.hpp"
#include "node_protocol.hpp"
#include "support/pg_scratch.hpp"
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

BOOST_FIXTURE_TEST_SUITE(store_postgres, bus::test::pg_scratch)

BOOST_AUTO_TEST_CASE(restart_on_the_database_rebuilds_models_and_skips_redeliveries) {
  auto stream = make_stream(600, 50, 0);
  auto first = replies_to(requests(stream, 50), {"--store", uri});
  BOOST_REQUIRE_EQUAL(first.size(), 650u);
  for (std::size_t i = 0; i < 600; ++i)
    BOOST_TEST(first[i].text("type") == "read_models_updated", first[i].line);
  BOOST_TEST(select("SELECT sum(count) FROM bus_events") == "600");
  // Again, with group commit: every event is already there.
  auto second = replies_to(requests(stream, 50),
                           {"--store", uri, "--durability", "interval:5"});
  BOOST_REQUIRE_EQUAL(second.size(), 650u);
  for (std::size_t i = 0; i < 600; ++i) {
    BOOST_TEST(second[i].text("type") == "event_skipped", second[i].line);
    BOOST_TEST(second[i].text("event_id") == stream[i].id);
  }
  // The read models came back from the log: every query answers as before.
  for (std::size_t q = 600; q < 650; ++q)
    BOOST_TEST(second[q].line == first[q].line);
  BOOST_TEST(select("SELECT sum(count) FROM bus_events") == "600");
}

BOOST_AUTO_TEST_CASE(restart_replays_only_the_tail_after_the_snapshot_in_the_database) {
  auto stream = make_stream(1000, 50, 0);
  std::vector<std::string> args{"--store", uri, "--snapshot-every", "100"};
  auto first = replies_to(requests(stream, 50), args);
  BOOST_REQUIRE_EQUAL(first.size(), 1050u);
  // Each model's snapshot is in the log's database, at 900 or later (the
  // one at 1000 may still be on its way when the node exits).
  BOOST_TEST(select("SELECT count(*) FROM bus_snapshots WHERE checkpoint >= 900")
             == "2");
  auto second = replies_to(
    requests(stream, 50) + request(R"({"type": "status", "msg_id": 7})"), args);
  BOOST_REQUIRE_EQUAL(second.size(), 1051u);
  // The same answers as before the restart...
  for (std::size_t q = 1000; q < 1050; ++q)
    BOOST_TEST(second[q].line == first[q].line);
  // ...from the snapshot, not from all 1000 events.
  for (auto& m : second[1050].body.at("read_models").as_array()) {
    BOOST_TEST(m.at("checkpoint").as_int64() == 1000);
    BOOST_TEST(m.at("applied").as_int64() <= 100, m);
  }
}

BOOST_AUTO_TEST_CASE(a_pause_holds_across_a_restart_on_the_database) {
  auto created = event(1, "UserCreated", R"({"id": "user-1", "name": "Ann"})");
  auto first = replies_to(
    created + request(R"({"type": "pause", "msg_id": 2, "model": "user_listing"})"),
    {"--store", uri});
  BOOST_REQUIRE_EQUAL(first.size(), 2u);
  BOOST_TEST(first[1].text("type") == "paused", first[1].line);
  BOOST_TEST(select("SELECT model FROM bus_paused_models") == "user_listing");
  // Another node on the database (a restart, or a standby taking the lead)
  // starts with the model paused: it takes nothing until resumed.
  auto second = replies_to(
    event(3, "UserUpdated", R"({"id": "user-1", "name": "Bea"})")
      + query(4, "user_listing", "user-1")
      + request(R"({"type": "resume", "msg_id": 5, "model": "user_listing"})")
      + query(6, "user_listing", "user-1"),
    {"--store", uri});
  BOOST_REQUIRE_EQUAL(second.size(), 4u);
  BOOST_TEST(second[0].json("updated_models") == R"(["user_by_email"])",
             second[0].line);
  BOOST_TEST(second[1].body.at("value").at("name").as_string() == "Ann",
             second[1].line);
  BOOST_TEST(second[2].text("type") == "resumed", second[2].line);
  BOOST_TEST(second[3].body.at("value").at("name").as_string() == "Bea",
             second[3].line);
  BOOST_TEST(select("SELECT count(*) FROM bus_paused_models") == "0");
}

BOOST_AUTO_TEST_CASE(
  restart_loads_the_model_tables_in_the_database_and_applies_only_new_events) {
  scratch_dir dir;
  auto config = dir.write("node.json", table_config);
  constexpr std::size_t users = 50;
  auto stream = make_stream(1200, users, 0);
  std::vector<user_event> first_part(stream.begin(), stream.begin() + 1000);
  // No snapshots: the tables alone must bring the models back.
  std::vector<std::string> args{"--config",         config, "--store", uri,
                                "--snapshot-every", "0"};
  auto first = replies_to(requests(first_part, users), args);
  BOOST_REQUIRE_EQUAL(first.size(), 1050u);
  BOOST_TEST(select("SELECT checkpoint FROM bus_model_checkpoints WHERE model = "
                    "'user_listing'")
             == "1000");
  auto emails = some_emails(stream, 100);
  auto second = replies_to(requests(stream, users) + email_queries(emails)
                             + request(R"({"type": "status", "msg_id": 7})"),
                           args);
  BOOST_REQUIRE_EQUAL(second.size(), 1200u + users + emails.size() + 1);
  for (std::size_t i = 0; i < 1000; ++i)
    BOOST_TEST(second[i].text("type") == "event_skipped");
  // Each model took the 200 new events and nothing of the first 1000: it
  // came back from its table, with no replay of the log.
  for (auto& m : second.back().body.at("read_models").as_array()) {
    BOOST_TEST(m.at("checkpoint").as_int64() == 1200, m);
    BOOST_TEST(m.at("applied").as_int64() == 200, m);
  }
  second.pop_back();
  check_queries(second, 1200, stream, users, emails);
  BOOST_TEST(select("SELECT count(*) FROM bus_model_user_listing")
             == select("SELECT count(DISTINCT key) FROM bus_model_user_listing"));
}

BOOST_AUTO_TEST_CASE(sigkill_mid_stream_leaves_the_tables_equal_to_a_fold_of_the_log) {
  scratch_dir dir;
  auto config = dir.write("node.json", table_config);
  constexpr std::size_t users = 100;
  auto stream = make_stream(3000, users, 10);
  auto emails = some_emails(stream, 200);
  auto input = requests(stream, users) + email_queries(emails);
  std::vector<std::string> args{"--config", config, "--store", uri};
  auto acknowledged = crash_repeatedly(args, input, stream, {400u, 1700u});
  BOOST_TEST(acknowledged.size() > 100u);
  BOOST_TEST(select("SELECT count(*) FROM bus_model_checkpoints") == "2");
  auto final_run = replies_to(input, args);
  check_acknowledged_skipped(final_run, stream, acknowledged);
  check_queries(final_run, stream.size(), stream, users, emails);
}

BOOST_AUTO_TEST_CASE(a_pause_the_fence_refused_is_an_error_not_an_acknowledgement) {
  // A long lease: the node renews it in 20 s, and counts itself the leader
  // until then.
  node_child node{BUS_NODE_PATH, {"--store", uri, "--lease-ms", "60000"}};
  node.wait_for_err("leading the log 'bus'");
  node.send(request(R"({"type": "pause", "msg_id": 1, "model": "user_listing"})"));
  auto paused = parse_reply(node.read_line());
  BOOST_TEST(paused.text("type") == "paused", paused.line);
  BOOST_TEST(select("SELECT model FROM bus_paused_models") == "user_listing");
  // Another node takes the lease over (this one stalled past it, say).
  sql("UPDATE bus_leader SET holder = 'node-b', token = token + 1");
  node.send(request(R"({"type": "resume", "msg_id": 2, "model": "user_listing"})")
            + request(R"({"type": "pause", "msg_id": 3, "model": "user_by_email"})"));
  for (int i = 0; i < 2; ++i) {
    auto refused = parse_reply(node.read_line());
    BOOST_TEST(refused.text("type") == "error", refused.line);
    // 11, as every request to a node that no longer leads; not 14, which
    // asks for it again here.
    BOOST_TEST(refused.json("code") == "11", refused.line);
    BOOST_TEST(refused.text("text").find("fenced: another bus node leads 'bus'")
                 != std::string::npos,
               refused.line);
  }
  // Nothing of them reached the database: the next leader starts as the
  // operator left it with the node that led.
  BOOST_TEST(select("SELECT string_agg(model, ',') FROM bus_paused_models")
             == "user_listing");
}

BOOST_AUTO_TEST_CASE(node_says_read_models_are_snapshotted_in_the_database) {
  auto result = run_node("", {"--store", uri});
  BOOST_TEST(result.exit_code == 0, result.err);
  BOOST_TEST(result.err.find("snapshotted in its database") != std::string::npos,
             result.err);
  BOOST_TEST(result.err.find("models keep their tables there") != std::string::npos,
             result.err);
  BOOST_TEST(result.err.find("holds 0 events") != std::string::npos, result.err);
}

BOOST_AUTO_TEST_CASE(unreachable_database_exits_2_naming_it) {
  auto result = run_node("",
                         {"--store", "postgresql:///nowhere?host=/nonexistent-dir"});
  BOOST_TEST(result.exit_code == 2, result.err);
  BOOST_TEST(result.err.find("postgresql:///nowhere") != std::string::npos, result.err);
}

BOOST_AUTO_TEST_SUITE_END()
