// bus-node on a durable store (--store): restarts, and crashes by SIGKILL.

#include <boost/test/unit_test.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <sqlite3.h>

#include "node_child.hpp"
#include "support/sqlite_scratch.hpp"
#include "node_process.hpp"
#include "node_protocol.hpp"
#include "user_stream.hpp"

using namespace bus::node::test;

namespace {

// Kills the node three times mid-stream on one store, restarting it with the
// whole stream each time, then checks nothing acknowledged was lost.
void check_sigkill_mid_stream(const std::vector<std::string>& durability_args) {
  scratch_dir dir;
  constexpr std::size_t users = 200;
  auto stream = make_stream(6000, users, 10);
  auto input = requests(stream, users);
  // Crash three times at different points, restarting on the same store
  // with the whole stream each time (a client retrying what it sent);
  // snapshots every 700 events: crashes fall between and during them.
  std::vector<std::string> args{"--store", dir.store(), "--snapshot-every", "700"};
  args.insert(args.end(), durability_args.begin(), durability_args.end());
  auto acknowledged = crash_repeatedly(args, input, stream, {300u, 2500u, 5000u});
  BOOST_TEST(acknowledged.size() > 100u);
  // A last, complete run: every acknowledged event is skipped, and the read
  // model equals a fold of the distinct events.
  auto final_run = replies_to(input, args);
  BOOST_REQUIRE_EQUAL(final_run.size(), stream.size() + users);
  check_acknowledged_skipped(final_run, stream, acknowledged);
  auto expected = fold_listing(stream);
  for (std::size_t u = 0; u < users; ++u) {
    auto& r = final_run[stream.size() + u];
    auto key = "user-" + std::to_string(u);
    auto doc = expected.find(key);
    if (doc == expected.end()) {
      BOOST_TEST(r.text("type") == "error", r.line);
      BOOST_TEST(r.json("code") == "20");
    } else {
      BOOST_REQUIRE(r.text("type") == "query_ok");
      BOOST_TEST(r.body.at("value") == boost::json::value(doc->second), r.line);
    }
  }
}

// The models paused in the store of pauses at `path`, in order, as one
// text ("" for none).
std::string paused_in_file(const std::string& path) {
  sqlite3* db = nullptr;
  BOOST_REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  std::string result;
  if (sqlite3_prepare_v2(db, "SELECT model FROM paused_models ORDER BY model", -1,
                         &stmt, nullptr)
      == SQLITE_OK)
    while (sqlite3_step(stmt) == SQLITE_ROW)
      result += (result.empty() ? "" : ",")
                + std::string{
                  reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))};
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return result;
}

} // namespace

BOOST_AUTO_TEST_SUITE(store)

BOOST_AUTO_TEST_CASE(restart_on_the_store_rebuilds_models_and_skips_redeliveries) {
  scratch_dir dir;
  auto stream = make_stream(600, 50, 0);
  auto first = replies_to(requests(stream, 50), {"--store", dir.store()});
  BOOST_REQUIRE_EQUAL(first.size(), 650u);
  for (std::size_t i = 0; i < 600; ++i)
    BOOST_TEST(first[i].text("type") == "read_models_updated");
  auto second = replies_to(requests(stream, 50), {"--store", dir.store()});
  BOOST_REQUIRE_EQUAL(second.size(), 650u);
  for (std::size_t i = 0; i < 600; ++i) {
    BOOST_TEST(second[i].text("type") == "event_skipped");
    BOOST_TEST(second[i].text("event_id") == stream[i].id);
  }
  // The read models came back: every query answers as before the restart.
  for (std::size_t q = 600; q < 650; ++q)
    BOOST_TEST(second[q].line == first[q].line);
}

BOOST_AUTO_TEST_CASE(
  redelivery_of_an_event_far_beyond_the_log_tail_is_skipped_across_a_restart) {
  // More events than the log keeps in memory (16,384): the first ones are
  // checked against the id table on disk, during the run and after it.
  scratch_dir dir;
  auto stream = make_stream(20000, 100, 0);
  auto old_ones = std::vector<user_event>{stream[0], stream[10000]};
  auto first = replies_to(requests(stream, 0) + requests(old_ones, 0),
                          {"--store", dir.store(), "--durability", "os"});
  BOOST_REQUIRE_EQUAL(first.size(), 20002u);
  BOOST_TEST(first[19999].text("type") == "read_models_updated");
  for (std::size_t i : {20000u, 20001u})
    BOOST_TEST(first[i].text("type") == "event_skipped", first[i].line);
  auto fresh = stream[1];
  fresh.id = "fresh";
  auto again = std::vector<user_event>{stream[0], stream[12345], fresh};
  auto second = replies_to(requests(again, 0)
                             + request(R"({"type": "status", "msg_id": 9})"),
                           {"--store", dir.store(), "--durability", "os"});
  BOOST_REQUIRE_EQUAL(second.size(), 4u);
  BOOST_TEST(second[0].text("type") == "event_skipped", second[0].line);
  BOOST_TEST(second[0].text("event_id") == stream[0].id);
  BOOST_TEST(second[1].text("type") == "event_skipped", second[1].line);
  BOOST_TEST(second[2].text("type") == "read_models_updated", second[2].line);
  // Appended once each: 20,000 events, then the fresh one.
  BOOST_TEST(second[3].body.at("head").as_int64() == 20001, second[3].line);
}

BOOST_AUTO_TEST_CASE(sigkill_mid_stream_loses_no_acknowledged_event) {
  check_sigkill_mid_stream({});
}

BOOST_AUTO_TEST_CASE(
  sigkill_mid_stream_loses_nothing_acknowledged_under_interval_sync) {
  // Group commit: replies wait for the sync that covers their events.
  check_sigkill_mid_stream({"--durability", "interval:5"});
}

BOOST_AUTO_TEST_CASE(
  sigkill_mid_stream_loses_nothing_acknowledged_when_full_groups_commit_early) {
  // A long interval and publishes of a few events: the groups are
  // committed once 32 publishes wait, long before their timer fires.
  check_sigkill_mid_stream({"--durability", "interval:1000", "--batch-size", "3"});
}

BOOST_AUTO_TEST_CASE(restart_replays_only_the_tail_after_the_latest_snapshot) {
  scratch_dir dir;
  auto stream = make_stream(1000, 50, 0);
  auto first = replies_to(requests(stream, 50),
                          {"--store", dir.store(), "--snapshot-every", "300"});
  BOOST_REQUIRE_EQUAL(first.size(), 1050u);
  auto second = replies_to(requests(stream, 50)
                             + request(R"({"type": "status", "msg_id": 7})"),
                           {"--store", dir.store(), "--snapshot-every", "300"});
  BOOST_REQUIRE_EQUAL(second.size(), 1051u);
  // The same answers as before the restart...
  for (std::size_t q = 1000; q < 1050; ++q)
    BOOST_TEST(second[q].line == first[q].line);
  // ...from the snapshot at 900 plus the 100 events after it, not all 1000.
  for (auto& m : second[1050].body.at("read_models").as_array()) {
    BOOST_TEST(m.at("checkpoint").as_int64() == 1000);
    BOOST_TEST(m.at("applied").as_int64() <= 100, m);
  }
}

BOOST_AUTO_TEST_CASE(sigkill_during_snapshot_writes_leaves_models_equal_to_a_fold) {
  scratch_dir dir;
  constexpr std::size_t users = 300;
  auto stream = make_stream(8000, users, 10);
  auto emails = some_emails(stream, 300);
  auto input = requests(stream, users) + email_queries(emails);
  // A snapshot after every event: the projectors hand the writer a delta
  // whenever it is free, so it is almost always inside a transaction, and
  // kills land there. The snapshot file keeps a rollback journal, which is
  // not empty only inside one: what this test counts.
  std::vector<std::string> args{"--store", dir.store(), "--snapshot-every", "1"};
  auto journal = dir.store() + ".snapshots-journal";
  std::set<std::string> acknowledged;
  std::size_t inside = 0;
  for (std::size_t lines :
       {900u, 1700u, 2600u, 3400u, 4300u, 5100u, 6000u, 6800u, 7600u}) {
    auto result = run_process(BUS_NODE_PATH, args, input, std::chrono::seconds{60},
                              lines);
    BOOST_REQUIRE(!result.timed_out);
    BOOST_REQUIRE(result.killed);
    std::error_code ec;
    inside += std::filesystem::file_size(journal, ec) > 0 && !ec;
    for (auto& r : complete_replies(std::move(result))) {
      auto i = static_cast<std::size_t>(r.in_reply_to() - 1);
      if (i >= stream.size())
        continue;
      if (acknowledged.count(stream[i].id) > 0)
        BOOST_TEST(r.text("type") == "event_skipped",
                   "event " << stream[i].id << " was lost: " << r.line);
      acknowledged.insert(stream[i].id);
    }
  }
  BOOST_TEST_MESSAGE(inside << " of 9 kills inside a snapshot transaction");
  BOOST_TEST(inside > 0u);
  // Complete: every acknowledged event is skipped, and both models equal
  // a fold of the distinct events.
  auto final_run = replies_to(input, args);
  check_acknowledged_skipped(final_run, stream, acknowledged);
  check_queries(final_run, stream.size(), stream, users, emails);
  // Restarted once more, the models come back from their snapshots: the
  // projectors pull only the events after them, not the whole log.
  auto again = replies_to(
    email_queries(emails) + request(R"({"type": "status", "msg_id": 7})"), args);
  BOOST_REQUIRE_EQUAL(again.size(), emails.size() + 1);
  for (auto& m : again.back().body.at("read_models").as_array())
    BOOST_TEST(m.at("applied").as_int64() < 1000, m);
  for (std::size_t i = 0; i < emails.size(); ++i)
    BOOST_TEST(again[i].line == final_run[stream.size() + users + i].line);
}

BOOST_AUTO_TEST_CASE(publishing_never_waits_for_a_snapshot_being_written) {
  scratch_dir dir;
  node_child node{BUS_NODE_PATH, {"--store", dir.store(), "--snapshot-every", "1"}};
  auto stream = make_stream(400, 50, 0);
  auto publish = [&](std::size_t first, std::size_t n) {
    std::string text;
    for (auto i = first; i < first + n; ++i)
      text += event(static_cast<long long>(i + 1), stream[i].type,
                    boost::json::serialize(stream[i].payload), stream[i].id);
    node.send(text);
    for (std::size_t i = 0; i < n; ++i) {
      auto line = node.read_line(std::chrono::seconds{8});
      BOOST_REQUIRE_MESSAGE(line.find("read_models_updated") != std::string::npos,
                            line);
    }
  };
  publish(0, 100);
  auto snapshots = dir.store() + ".snapshots";
  auto checkpoint = [&] {
    sqlite3* db = nullptr;
    std::string result = "none";
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_open(snapshots.c_str(), &db) == SQLITE_OK
        && sqlite3_prepare_v2(
             db, "SELECT checkpoint FROM snapshots WHERE model = 'user_listing'", -1,
             &stmt, nullptr)
             == SQLITE_OK
        && sqlite3_step(stmt) == SQLITE_ROW)
      result = std::to_string(sqlite3_column_int64(stmt, 0));
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return result;
  };
  // Another connection takes the snapshot file's write lock and keeps it:
  // every snapshot write waits for it now (its busy timeout is 10 s).
  sqlite3* lock = nullptr;
  BOOST_REQUIRE(sqlite3_open(snapshots.c_str(), &lock) == SQLITE_OK);
  sqlite3_busy_timeout(lock, 10000);
  BOOST_REQUIRE(sqlite3_exec(lock, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr)
                == SQLITE_OK);
  // The events are answered all the same, long before the lock goes (a
  // projector that wrote its snapshots itself would wait the 10 s, fail,
  // and answer nothing meanwhile).
  publish(100, 300);
  sqlite3_exec(lock, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(lock);
  // Then the writer catches up with the log.
  auto deadline = std::chrono::steady_clock::now() + scaled(std::chrono::seconds{30});
  while (checkpoint() != "400" && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
  BOOST_TEST(checkpoint() == "400");
  BOOST_TEST(node.running());
}

// A model with parked events is caught up and takes events (state
// `parked`): a node restarted with --await-models on it starts at once. It
// waited for the model to be `running` instead, gave up ("did not attach",
// exit 1), and so did a bus node awaiting such a model of a projector node.
BOOST_AUTO_TEST_CASE(a_node_awaiting_a_model_with_parked_events_starts) {
  scratch_dir dir;
  auto config = dir.write("strict.json", R"({"read_models": [
    {"name": "strict", "kind": "document", "key": "id", "require": ["email"],
     "merge_on": ["UserCreated"], "on_error": {"attempts": 1, "then": "park"}}]})");
  std::vector<std::string> args{"--config", config, "--store", dir.store()};
  auto first = replies_to(event(1, "UserCreated", R"({"id": "u1"})", "e1")
                            + event(2, "UserCreated", R"({"id": "u2", "email": "b@x"})",
                                    "e2"),
                          args);
  BOOST_REQUIRE_EQUAL(first.size(), 2u);
  BOOST_TEST(first[1].text("type") == "read_models_updated", first[1].line);
  args.insert(args.end(), {"--await-models", "strict", "--startup-timeout", "3"});
  auto second = run_node(
    event(3, "UserCreated", R"({"id": "u3", "email": "c@x"})", "e3")
      + query(4, "strict", "u2")
      + request(R"({"type": "parked", "msg_id": 5, "model": "strict"})"),
    args);
  BOOST_TEST(second.exit_code == 0, second.err);
  auto replies = replies_of(second);
  BOOST_REQUIRE_EQUAL(replies.size(), 3u);
  BOOST_TEST(replies[0].text("type") == "read_models_updated", replies[0].line);
  BOOST_TEST(replies[1].text("type") == "query_ok", replies[1].line);
  BOOST_TEST(replies[2].body.at("parked").as_array().size() == 1u, replies[2].line);
}

// A store that grows past the process's file-size limit (RLIMIT_FSIZE, as
// `ulimit -f` sets): the kernel's SIGXFSZ would end the node on the spot,
// saying nothing. The node takes the refused write as a failed store
// instead: error 14, nothing acknowledged that is not stored, exit 0; a
// restart without the limit finds every acknowledged event.
BOOST_AUTO_TEST_CASE(a_store_past_the_file_size_limit_fails_without_killing_the_node) {
  scratch_dir dir;
  auto stream = make_stream(20000, 500, 0);
  auto input = requests(stream, 0);
  // dash's ulimit -f counts 512-byte blocks: 1 MiB.
  auto limited = run_process("/bin/sh",
                             {"-c", "ulimit -f 2048 && exec \"$0\" \"$@\"",
                              BUS_NODE_PATH, "--store", dir.store()},
                             input, scaled(std::chrono::seconds{60}));
  BOOST_TEST(limited.term_signal == 0,
             "the node died of signal " << limited.term_signal);
  BOOST_TEST(limited.exit_code == 0, limited.err);
  auto replies = complete_replies(limited);
  std::set<std::string> acknowledged;
  std::size_t refused = 0;
  for (auto& r : replies) {
    if (r.text("type") == "read_models_updated")
      acknowledged.insert(r.text("event_id"));
    else if (r.text("type") == "error" && r.json("code") == "14")
      ++refused;
  }
  BOOST_TEST(acknowledged.size() > 100u);
  BOOST_TEST(refused > 0u, "the store never reached the limit");
  // Without the limit: every acknowledged event is in the store.
  auto final_run = replies_to(input, {"--store", dir.store()});
  BOOST_REQUIRE_EQUAL(final_run.size(), stream.size());
  check_acknowledged_skipped(final_run, stream, acknowledged);
}

// A pause or resume that the store of pauses cannot keep (a full disk; here
// triggers refuse its writes as one would) holds on the node but would not
// survive its restart: it is answered with error 14, which says so, never
// `paused` or `resumed`. Once the store writes again, the same request is
// kept and acknowledged.
BOOST_AUTO_TEST_CASE(a_pause_the_store_cannot_keep_is_error_14_not_an_acknowledgement) {
  scratch_dir dir;
  auto lifecycle = dir.store() + ".lifecycle";
  std::vector<std::string> args{"--store", dir.store()};
  BOOST_REQUIRE_EQUAL(run_node("", args).exit_code, 0); // makes the tables
  node_child node{BUS_NODE_PATH, args};
  node.send(request(R"({"type": "pause", "msg_id": 1, "model": "user_listing"})"));
  auto paused = parse_reply(node.read_line());
  BOOST_TEST(paused.text("type") == "paused", paused.line);
  BOOST_TEST(paused_in_file(lifecycle) == "user_listing");
  bus::test::exec_sql(lifecycle,
                      "CREATE TRIGGER full_in BEFORE INSERT ON paused_models BEGIN "
                      "SELECT RAISE(ABORT, 'database or disk is full'); END; "
                      "CREATE TRIGGER full_out BEFORE DELETE ON paused_models BEGIN "
                      "SELECT RAISE(ABORT, 'database or disk is full'); END");
  node.send(request(R"({"type": "resume", "msg_id": 2, "model": "user_listing"})")
            + request(R"({"type": "pause", "msg_id": 3, "model": "user_by_email"})"));
  struct refusal {
    long long msg_id;
    std::string what;
  };
  for (auto& x : {refusal{2, "read model 'user_listing': resumed on this node but "
                             "not kept"},
                  refusal{3, "read model 'user_by_email': paused on this node but "
                             "not kept"}}) {
    auto r = parse_reply(node.read_line());
    BOOST_TEST(r.in_reply_to() == x.msg_id, r.line);
    BOOST_TEST(r.text("type") == "error", r.line);
    BOOST_TEST(r.json("code") == "14", r.line);
    BOOST_TEST(r.text("text").find(x.what) != std::string::npos, r.line);
    BOOST_TEST(r.text("text").find("database or disk is full") != std::string::npos,
               r.line);
  }
  // As the operator was told: a restart would find user_listing paused.
  BOOST_TEST(paused_in_file(lifecycle) == "user_listing");
  bus::test::exec_sql(lifecycle, "DROP TRIGGER full_in; DROP TRIGGER full_out");
  node.send(request(R"({"type": "resume", "msg_id": 4, "model": "user_listing"})"));
  auto resumed = parse_reply(node.read_line());
  BOOST_TEST(resumed.text("type") == "resumed", resumed.line);
  BOOST_TEST(paused_in_file(lifecycle) == "");
}

BOOST_AUTO_TEST_CASE(unusable_store_path_exits_2_with_a_message) {
  auto result = run_node("", {"--store", "/nonexistent/dir/bus.db"});
  BOOST_TEST(result.exit_code == 2);
  BOOST_TEST(result.err.find("/nonexistent/dir/bus.db") != std::string::npos);
  BOOST_TEST(result.out.empty());
  for (auto bad : {"sometimes", "interval:0", "interval:", "interval:5ms"}) {
    auto bad_policy = run_node("", {"--durability", bad});
    BOOST_TEST(bad_policy.exit_code == 2, bad);
    BOOST_TEST(bad_policy.err.find("durability") != std::string::npos, bad);
    BOOST_TEST(bad_policy.out.empty());
  }
}

// A damaged file beside the log (its snapshots, model tables or pauses)
// stops the node at start, named, rather than fail its models one by one
// for good while it runs on.
BOOST_AUTO_TEST_CASE(a_damaged_file_beside_the_store_exits_2_naming_it) {
  for (auto suffix : {".snapshots", ".models", ".lifecycle"}) {
    scratch_dir dir;
    auto damaged = dir.store() + suffix;
    {
      std::ofstream out{damaged};
      out << std::string(8192, 'x');
    }
    auto result = run_node("", {"--store", dir.store()});
    BOOST_TEST(result.exit_code == 2, suffix);
    BOOST_TEST(result.err.find(damaged + " is not a usable SQLite database")
                 != std::string::npos,
               result.err);
    BOOST_TEST(result.out.empty());
  }
}

// A row of the pauses a bus node keeps for projector nodes that holds no
// intent stops a listening node at start, named, rather than be taken for
// a pause or a run.
BOOST_AUTO_TEST_CASE(a_damaged_partition_intent_exits_2_naming_it) {
  scratch_dir dir;
  auto lifecycle = dir.store() + ".lifecycle";
  std::vector<std::string> args{"--store", dir.store(), "--listen", "127.0.0.1:0"};
  BOOST_REQUIRE_EQUAL(run_node("", args).exit_code, 0); // makes the tables
  sqlite3* db = nullptr;
  BOOST_REQUIRE(sqlite3_open(lifecycle.c_str(), &db) == SQLITE_OK);
  auto rc = sqlite3_exec(db,
                         "INSERT INTO partition_intents VALUES ('user_listing', 3, "
                         "6, 'frobnicate', NULL, 1)",
                         nullptr, nullptr, nullptr);
  sqlite3_close(db);
  BOOST_REQUIRE(rc == SQLITE_OK);
  auto result = run_node("", args);
  BOOST_TEST(result.exit_code == 2);
  BOOST_TEST(result.err.find("partition 3 of read model 'user_listing' is "
                             "'frobnicate', neither 'run' nor 'pause'")
               != std::string::npos,
             result.err);
  BOOST_TEST(result.out.empty());
}

BOOST_AUTO_TEST_SUITE_END()
