// A bus node and two projector nodes as real processes on loopback: node
// loss, restart and reconnection, checked against folds of the stream.

#include <boost/test/unit_test.hpp>

#include <csignal>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/json/serialize.hpp>

#include <sqlite3.h>

#include "node_child.hpp"
#include "node_protocol.hpp"
#include "user_stream.hpp"

using namespace bus::node::test;
using namespace std::chrono_literals;

namespace {

const std::string config_dir = BUS_CONFIG_DIR;

struct cluster {
  const std::vector<std::string> both{"user_listing", "user_by_email"};
  std::unique_ptr<node_child> bus;
  std::string port;
  std::map<std::string, std::unique_ptr<node_child>> projectors;
  long long next_msg_id = 1;
  std::string last_status;

  void start_bus(std::vector<std::string> extra = {}, std::string at_port = "0") {
    std::vector<std::string> args{"--config", config_dir + "/bus-only.json",
                                  "--listen", "127.0.0.1:" + at_port};
    args.insert(args.end(), extra.begin(), extra.end());
    bus = std::make_unique<node_child>(BUS_NODE_PATH, args);
    auto err = bus->wait_for_err("listening on 127.0.0.1:");
    auto at = err.find("listening on 127.0.0.1:") + 23;
    port = err.substr(at, err.find('\n', at) - at);
  }

  // A bus node (with `bus_args`) and node-a (user_listing) and node-b
  // (user_by_email), attached and caught up.
  void start_all(std::vector<std::string> bus_args = {}) {
    start_bus(std::move(bus_args));
    start_projector("node-a", "projector-listing.json");
    start_projector("node-b", "projector-email.json");
    until_caught_up(both);
  }

  // Every event of `stream` was applied exactly once by each model.
  void check_applied_once(const std::vector<user_event>& stream) {
    std::uint64_t head = 0;
    auto ms = models(head);
    std::set<std::string> ids;
    for (auto& e : stream)
      ids.insert(e.id);
    BOOST_TEST(head == ids.size());
    for (auto& name : both)
      BOOST_TEST(ms[name].at("applied").as_int64() == static_cast<std::int64_t>(head),
                 name);
  }

  void start_projector(const std::string& name, const std::string& config,
                       std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"--connect", "127.0.0.1:" + port, "--config",
                                  config_dir + "/" + config, "--name", name};
    args.insert(args.end(), extra.begin(), extra.end());
    projectors[name] = std::make_unique<node_child>(BUS_PROJECTOR_PATH, args, false);
  }

  reply call(const std::string& body_fields) {
    auto id = next_msg_id++;
    bus->send(request("{" + body_fields + ", \"msg_id\": " + std::to_string(id) + "}"));
    auto r = parse_reply(bus->read_line());
    BOOST_REQUIRE_EQUAL(r.in_reply_to(), id);
    return r;
  }

  // The read models in the bus node's status, by name.
  std::map<std::string, boost::json::object> models(std::uint64_t& head) {
    auto r = call(R"("type": "status")");
    BOOST_REQUIRE_MESSAGE(r.text("type") == "status_ok", r.line);
    last_status = r.line;
    head = static_cast<std::uint64_t>(r.body.at("head").as_int64());
    std::map<std::string, boost::json::object> result;
    for (auto& m : r.body.at("read_models").as_array())
      result[std::string{m.at("model").as_string()}] = m.as_object();
    return result;
  }

  // Polls status (hard deadline) until every model in `names` runs at the
  // head: attached, caught up, and pushes flowing.
  void until_caught_up(const std::vector<std::string>& names) {
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
      std::uint64_t head = 0;
      auto ms = models(head);
      bool all = true;
      for (auto& n : names) {
        auto i = ms.find(n);
        all = all && i != ms.end() && i->second.at("state").as_string() == "running"
              && static_cast<std::uint64_t>(i->second.at("checkpoint").as_int64()) == head;
      }
      if (all)
        return;
      std::this_thread::sleep_for(50ms);
    }
    BOOST_FAIL("read models did not catch up within 30 s: " + last_status);
  }

  // Polls status (hard deadline) until model `name` is in state `wanted`.
  // States in `on_the_way` may be seen first; any other fails at once.
  void until_state(const std::string& name, const std::string& wanted,
                   const std::set<std::string>& on_the_way,
                   std::chrono::seconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    std::string state;
    while (std::chrono::steady_clock::now() < deadline) {
      std::uint64_t head = 0;
      auto ms = models(head);
      auto i = ms.find(name);
      BOOST_REQUIRE_MESSAGE(i != ms.end(), name + " missing: " + last_status);
      state = std::string{i->second.at("state").as_string()};
      if (state == wanted)
        return;
      BOOST_REQUIRE_MESSAGE(on_the_way.count(state) > 0,
                            name + " is " + state + ", not " + wanted + ": " + last_status);
      BOOST_TEST_MESSAGE(name << " is " << state << " ("
                                << std::string{i->second.at("last_error").as_string()}
                                << "), waiting for " << wanted);
      std::this_thread::sleep_for(50ms);
    }
    BOOST_FAIL(name + " still " + state + ", not " + wanted + ", after "
               + std::to_string(limit.count()) + " s: " + last_status);
  }

  // Publishes stream[first, last) and returns the replies in order.
  std::vector<reply> publish(const std::vector<user_event>& stream,
                             std::size_t first, std::size_t last) {
    std::string text;
    std::vector<long long> ids;
    for (auto i = first; i < last; ++i) {
      ids.push_back(next_msg_id);
      text += event(next_msg_id++, stream[i].type,
                    boost::json::serialize(stream[i].payload), stream[i].id);
    }
    bus->send(text);
    std::vector<reply> result;
    for (auto id : ids) {
      result.push_back(parse_reply(bus->read_line()));
      BOOST_REQUIRE_EQUAL(result.back().in_reply_to(), id);
    }
    return result;
  }

  // Queries every user and every email of `stream` on the bus node and
  // checks the answers against the folds.
  void check_models_equal_folds(const std::vector<user_event>& stream,
                                std::size_t users) {
    check_listing_equals_fold(stream, users);
    check_emails_equal_fold(stream);
  }

  // Queries every user's user_listing on the bus node against the fold.
  void check_listing_equals_fold(const std::vector<user_event>& stream,
                                 std::size_t users) {
    auto listing = fold_listing(stream);
    for (std::size_t u = 0; u < users; ++u) {
      auto key = "user-" + std::to_string(u);
      auto r = call(R"("type": "query", "model": "user_listing", "key": ")" + key + "\"");
      auto doc = listing.find(key);
      if (doc == listing.end()) {
        BOOST_TEST(r.json("code") == "20", r.line);
      } else {
        BOOST_REQUIRE_MESSAGE(r.text("type") == "query_ok", r.line);
        BOOST_TEST(r.body.at("value") == boost::json::value(doc->second), r.line);
      }
    }
  }

  // Queries every email of `stream` in user_by_email against the fold.
  void check_emails_equal_fold(const std::vector<user_event>& stream) {
    auto emails = fold_emails(stream);
    std::set<std::string> all_emails;
    for (auto& e : stream)
      if (auto* m = e.payload.if_contains("email"))
        all_emails.insert(std::string{m->as_string()});
    for (auto& email : all_emails) {
      auto r = call(R"("type": "query", "model": "user_by_email", "key": ")" + email + "\"");
      auto user = emails.find(email);
      if (user == emails.end()) {
        BOOST_TEST(r.json("code") == "20", r.line);
      } else {
        BOOST_REQUIRE_MESSAGE(r.text("type") == "query_ok", r.line);
        BOOST_TEST(r.text("value") == user->second, r.line);
      }
    }
  }
};

// Checks that every redelivery of an event seen before is skipped, and
// every first delivery is taken by the models in `takers`.
void check_replies(const std::vector<user_event>& stream, std::size_t first,
                   const std::vector<reply>& replies, std::set<std::string>& seen,
                   const std::vector<std::string>& takers) {
  for (std::size_t j = 0; j < replies.size(); ++j) {
    auto& e = stream[first + j];
    auto& r = replies[j];
    if (!seen.insert(e.id).second) {
      BOOST_TEST(r.text("type") == "event_skipped", r.line);
      continue;
    }
    BOOST_REQUIRE_MESSAGE(r.text("type") == "read_models_updated", r.line);
    for (auto& t : takers)
      BOOST_TEST(r.json("updated_models").find("\"" + t + "\"") != std::string::npos,
                 r.line);
  }
}

// The checkpoint of `model`'s stored snapshot in the file `path`, 0 when
// it has none (yet).
std::int64_t stored_checkpoint(const std::string& path, const std::string& model) {
  sqlite3* db = nullptr;
  std::int64_t result = 0;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(db, 1000);
    sqlite3_stmt* q = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT checkpoint FROM snapshots WHERE model = ?", -1, &q,
                           nullptr)
        == SQLITE_OK) {
      sqlite3_bind_text(q, 1, model.c_str(), -1, SQLITE_TRANSIENT);
      if (sqlite3_step(q) == SQLITE_ROW)
        result = sqlite3_column_int64(q, 0);
    }
    sqlite3_finalize(q);
  }
  sqlite3_close(db);
  return result;
}

// Polls (hard deadline) until `model`'s snapshot in `path` covers `seq`:
// snapshots are written in the background, after the events were applied.
void until_snapshot_covers(const std::string& path, const std::string& model,
                           std::int64_t seq) {
  auto deadline = std::chrono::steady_clock::now() + 30s;
  std::int64_t at = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    at = stored_checkpoint(path, model);
    if (at >= seq)
      return;
    std::this_thread::sleep_for(20ms);
  }
  BOOST_FAIL("the snapshot of " << model << " stayed at " << at << ", not " << seq);
}

} // namespace

BOOST_AUTO_TEST_SUITE(cluster_distributed)

BOOST_AUTO_TEST_CASE(projector_node_killed_mid_stream_comes_back_equal_to_the_fold) {
  constexpr std::size_t users = 150;
  auto stream = make_stream(3000, users, 10);
  cluster c;
  c.start_all();
  std::set<std::string> seen;
  check_replies(stream, 0, c.publish(stream, 0, 1000), seen,
                c.both);
  // Node A dies mid-stream; publishing goes on, node B takes everything.
  c.projectors["node-a"]->stop(SIGKILL);
  check_replies(stream, 1000, c.publish(stream, 1000, 2000), seen, {"user_by_email"});
  auto away = c.call(R"("type": "query", "model": "user_listing", "key": "user-1")");
  BOOST_TEST(away.json("code") == "11", away.line);
  BOOST_TEST(away.text("text").find("user_listing") != std::string::npos, away.line);
  // A comes back (same name, memory only: it replays the log from seq 1).
  c.start_projector("node-a", "projector-listing.json");
  c.until_caught_up(c.both);
  check_replies(stream, 2000, c.publish(stream, 2000, 3000), seen,
                c.both);
  c.until_caught_up(c.both);
  c.check_models_equal_folds(stream, users);
  // Every event was applied once by each model: B never stopped or
  // replayed, A's replacement replayed the log exactly once.
  c.check_applied_once(stream);
  std::uint64_t head = 0;
  BOOST_TEST(c.models(head)["user_by_email"].at("restarts").as_int64() == 0);
  BOOST_TEST(c.projectors["node-b"]->running());
  auto b_err = c.projectors["node-b"]->err();
  BOOST_TEST(b_err.find("lost the bus") == std::string::npos, b_err);
}

BOOST_AUTO_TEST_CASE(bus_node_restarted_on_its_store_gets_its_projector_nodes_back) {
  constexpr std::size_t users = 100;
  auto stream = make_stream(2000, users, 10);
  scratch_dir dir;
  cluster c;
  c.start_all({"--store", dir.store()});
  std::set<std::string> seen;
  check_replies(stream, 0, c.publish(stream, 0, 1000), seen,
                c.both);
  // The bus node dies; it comes back on the same store and port, and both
  // projector nodes reconnect on their own.
  c.bus->stop(SIGKILL);
  c.start_bus({"--store", dir.store()}, c.port);
  c.until_caught_up(c.both);
  for (auto& name : {"node-a", "node-b"}) {
    auto err = c.projectors[name]->err();
    auto lost = err.find("lost the bus");
    BOOST_REQUIRE_MESSAGE(lost != std::string::npos, err);
    BOOST_TEST(err.find("attached to the bus", lost) != std::string::npos, err);
  }
  // Redeliveries of what the old bus acknowledged are skipped.
  check_replies(stream, 0, c.publish(stream, 0, 200), seen, {});
  check_replies(stream, 1000, c.publish(stream, 1000, 2000), seen,
                c.both);
  c.until_caught_up(c.both);
  c.check_models_equal_folds(stream, users);
  // The projector nodes kept their state across the bus's restart and
  // pulled only what they missed: nothing was applied twice.
  c.check_applied_once(stream);
}

BOOST_AUTO_TEST_CASE(projector_node_restarted_on_its_store_pulls_only_the_tail) {
  constexpr std::size_t users = 100;
  auto stream = make_stream(1600, users, 0);
  scratch_dir dir;
  std::vector<std::string> node_store{"--store", (dir.path / "node-a").string(),
                                      "--snapshot-every", "200"};
  cluster c;
  c.start_bus();
  c.start_projector("node-a", "projector-listing.json", node_store);
  c.until_caught_up({"user_listing"});
  std::set<std::string> seen;
  check_replies(stream, 0, c.publish(stream, 0, 1000), seen, {"user_listing"});
  c.until_caught_up({"user_listing"});
  // Snapshots are written behind the applies: the test kills the node once
  // one within an interval of the head is on disk.
  auto snapshots = (dir.path / "node-a.snapshots").string();
  until_snapshot_covers(snapshots, "user_listing", 800);
  c.projectors["node-a"]->stop(SIGKILL);
  auto at_kill = stored_checkpoint(snapshots, "user_listing");
  check_replies(stream, 1000, c.publish(stream, 1000, 1600), seen, {});
  // Back from its snapshot: it pulls the events after it, not the whole
  // log.
  c.start_projector("node-a", "projector-listing.json", node_store);
  c.until_caught_up({"user_listing"});
  std::uint64_t head = 0;
  auto ms = c.models(head);
  BOOST_TEST(head == 1600u);
  auto applied = ms["user_listing"].at("applied").as_int64();
  BOOST_TEST(applied == 1600 - at_kill, "applied " << applied << ", snapshot at " << at_kill);
  c.check_listing_equals_fold(stream, users);
}

BOOST_AUTO_TEST_CASE(silent_projector_node_is_declared_lost_by_heartbeat) {
  constexpr std::size_t users = 30;
  auto stream = make_stream(200, users, 0);
  cluster c;
  c.start_all();
  std::set<std::string> seen;
  check_replies(stream, 0, c.publish(stream, 0, 100), seen,
                c.both);
  // Node B hangs (its process stopped, its socket open): only missing
  // heartbeats tell. The publish is answered once B is declared lost (3 s
  // without a message), without B, and far within the reply time limit.
  ::kill(c.projectors["node-b"]->pid(), SIGSTOP);
  auto t0 = std::chrono::steady_clock::now();
  check_replies(stream, 100, c.publish(stream, 100, 101), seen, {"user_listing"});
  BOOST_TEST((std::chrono::steady_clock::now() - t0 < 15s));
  // The bus answers the publish once it has dropped B's projector, but it
  // forgets B's supervisor on a down_msg of its own, which a loaded machine
  // may deliver after a status sent at once: that status still asks B's
  // supervisor and, getting no answer, reports B's models `unreachable`.
  // Both are true of a lost node; the node must settle on `away`.
  c.until_state("user_by_email", "away", {"unreachable"}, 20s);
  check_replies(stream, 101, c.publish(stream, 101, 200), seen, {"user_listing"});
  // It wakes up, finds its bus gone, reconnects and catches up.
  ::kill(c.projectors["node-b"]->pid(), SIGCONT);
  c.until_caught_up(c.both);
  c.check_models_equal_folds(stream, users);
}

BOOST_AUTO_TEST_CASE(listening_beyond_loopback_needs_an_explicit_option) {
  auto refused = run_process(BUS_NODE_PATH, {"--listen", "0.0.0.0:0"}, "", 10s);
  BOOST_TEST(refused.exit_code == 2);
  BOOST_TEST(refused.err.find("--allow-remote") != std::string::npos, refused.err);
  auto malformed = run_process(BUS_NODE_PATH, {"--listen", "localhost"}, "", 10s);
  BOOST_TEST(malformed.exit_code == 2);
  auto no_bus = run_process(BUS_PROJECTOR_PATH, {"--config", "x.json"}, "", 10s);
  BOOST_TEST(no_bus.exit_code == 2);
  BOOST_TEST(no_bus.err.find("--connect") != std::string::npos, no_bus.err);
}

BOOST_AUTO_TEST_SUITE_END()
