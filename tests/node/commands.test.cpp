// Commands through bus-node (docs/commands.md): the shop's order aggregate
// compiled into the node and enabled by config/shop.json. Commands go in,
// their events reach the read model "orders", queries come out, and the
// answers equal an independent fold of the shop's rules.

#include <boost/test/unit_test.hpp>

#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "node_process.hpp"
#include "node_protocol.hpp"
#include "protocol.hpp"
#include "user_stream.hpp"

using namespace bus::node::test;
using bus::node::error_code;
using bus::node::request_kind;

namespace {

const std::string shop_config = std::string{BUS_CONFIG_DIR} + "/shop.json";

std::string command(long long msg_id, std::string_view name, std::string_view stream,
                    std::uint64_t expected_version, std::string_view data = "{}") {
  return request(R"({"type": "command", "msg_id": )" + std::to_string(msg_id)
                 + R"(, "command": ")" + std::string{name} + R"(", "stream": ")"
                 + std::string{stream} + R"(", "expected_version": )"
                 + std::to_string(expected_version) + R"(, "data": )"
                 + std::string{data} + "}");
}

// The shop's rules, written again independently of the aggregate.
struct order_model {
  std::string status = "none";
  long long amount = 0;
  std::uint64_t version = 0;
  boost::json::object document; // what the read model should hold
};

enum class outcome { ok, conflict, rejected };

struct sent_command {
  long long msg_id;
  std::string order;
  outcome expected;
};

} // namespace

BOOST_AUTO_TEST_SUITE(node_commands)

BOOST_AUTO_TEST_CASE(a_command_is_answered_with_its_events_and_their_seqs) {
  auto replies = replies_to(command(1, "PlaceOrder", "order-1", 0,
                                    R"({"customer": "ann", "amount_cents": 1250})")
                              + command(2, "PayOrder", "order-1", 1,
                                        R"({"amount_cents": 1250})")
                              + query(3, "orders", "order-1"),
                            {"--config", shop_config});
  BOOST_REQUIRE_EQUAL(replies.size(), 3u);
  BOOST_TEST(replies[0].body_text()
             == R"({"type": "command_ok", "in_reply_to": 1, "stream": "order-1", )"
                R"("version": 1, "events": [{"id": "order-1@1", "seq": 1, )"
                R"("type": "OrderPlaced", "stream_version": 1, "payload": )"
                R"({"order_id": "order-1", "customer": "ann", "amount_cents": 1250, )"
                R"("status": "placed"}}]})");
  BOOST_TEST(replies[1].text("type") == "command_ok");
  BOOST_TEST(replies[1].json("version") == "2");
  BOOST_TEST(replies[1].body.at("events").at(0).at("seq").as_int64() == 2);
  BOOST_TEST(replies[2].text("type") == "query_ok", replies[2].line);
  BOOST_TEST(replies[2].line.find(R"("status": "paid")") != std::string::npos,
             replies[2].line);
}

BOOST_AUTO_TEST_CASE(validation_errors_and_conflicts_have_their_codes) {
  auto replies = replies_to(
    command(1, "PlaceOrder", "order-1", 0,
            R"({"customer": "ann", "amount_cents": 900})")
      + command(2, "PayOrder", "order-1", 1, R"({"amount_cents": 800})")
      + command(3, "CancelOrder", "order-1", 1, R"({"reason": "changed mind"})")
      + command(4, "PayOrder", "order-1", 2, R"({"amount_cents": 900})")
      + command(5, "PlaceOrder", "order-1", 0,
                R"({"customer": "bob", "amount_cents": 5})")
      + command(6, "PlaceOrder", "order-2", 0, R"({"customer": "", "amount_cents": 5})")
      + command(7, "ShipOrder", "order-1", 2),
    {"--config", shop_config});
  BOOST_REQUIRE_EQUAL(replies.size(), 7u);
  BOOST_TEST(replies[0].text("type") == "command_ok");
  BOOST_TEST(replies[1].json("code") == "22");
  BOOST_TEST(
    replies[1].text("text")
    == "PayOrder on 'order-1': amount_cents 800 does not match the order's 900");
  BOOST_TEST(replies[2].text("type") == "command_ok");
  BOOST_TEST(replies[3].json("code") == "22");
  BOOST_TEST(replies[3].text("text")
             == "PayOrder on 'order-1': cannot pay an order that is cancelled");
  BOOST_TEST(replies[4].json("code") == "30");
  BOOST_TEST(replies[4].text("text")
             == "stream 'order-1': expected version 0, but it is at version 2");
  BOOST_TEST(replies[5].json("code") == "22");
  BOOST_TEST(replies[6].json("code") == "10");
  BOOST_TEST(replies[6].text("text") == "no aggregate handles command 'ShipOrder'");
}

BOOST_AUTO_TEST_CASE(malformed_command_requests_get_a_clear_error) {
  std::vector<std::pair<std::string, std::string>> cases{
    {R"("stream": "o-1", "expected_version": 0)", "body.command"},
    {R"("command": "", "stream": "o-1", "expected_version": 0)", "body.command"},
    {R"("command": 7, "stream": "o-1", "expected_version": 0)", "body.command"},
    {R"("command": "PlaceOrder", "expected_version": 0)", "body.stream"},
    {R"("command": "PlaceOrder", "stream": ["o"], "expected_version": 0)",
     "body.stream"},
    {R"("command": "PlaceOrder", "stream": ")" + std::string(257, 's')
       + R"(", "expected_version": 0)",
     "body.stream"},
    {R"("command": "PlaceOrder", "stream": "o-1")", "body.expected_version"},
    {R"("command": "PlaceOrder", "stream": "o-1", "expected_version": -1)",
     "body.expected_version"},
    {R"("command": "PlaceOrder", "stream": "o-1", "expected_version": 1.5)",
     "body.expected_version"},
    {R"("command": "PlaceOrder", "stream": "o-1", "expected_version": "0")",
     "body.expected_version"},
    {R"("command": "PlaceOrder", "stream": "o-1", "expected_version": 0, "data": [])",
     "body.data"},
    {R"("command": "PlaceOrder", "stream": "o-1", "expected_version": 0, "data": {"a": 1e999})",
     "body.data"},
  };
  std::string input;
  long long id = 0;
  for (auto& [fields, named] : cases)
    input += request(R"({"type": "command", "msg_id": )" + std::to_string(++id) + ", "
                     + fields + "}");
  // The node goes on after them.
  input += command(++id, "PlaceOrder", "o-1", 0,
                   R"({"customer": "c", "amount_cents": 1})");
  auto replies = replies_to(input, {"--config", shop_config});
  BOOST_REQUIRE_EQUAL(replies.size(), cases.size() + 1);
  for (std::size_t i = 0; i < cases.size(); ++i) {
    BOOST_TEST_CONTEXT(cases[i].first) {
      BOOST_TEST(replies[i].text("type") == "error");
      BOOST_TEST(replies[i].json("code") == "12");
      BOOST_TEST(replies[i].text("text").find(cases[i].second) == 0u,
                 replies[i].text("text"));
    }
  }
  BOOST_TEST(replies.back().text("type") == "command_ok", replies.back().line);
}

BOOST_AUTO_TEST_CASE(a_node_without_aggregates_refuses_commands) {
  auto replies = replies_to(command(1, "PlaceOrder", "order-1", 0) + init(2));
  BOOST_REQUIRE_EQUAL(replies.size(), 2u);
  BOOST_TEST(replies[0].json("code") == "10");
  BOOST_TEST(replies[0].text("text").find("this node takes no commands") == 0u);
  BOOST_TEST(replies[1].text("type") == "init_ok");
}

BOOST_AUTO_TEST_CASE(an_unknown_aggregate_in_the_config_is_refused_at_start) {
  scratch_dir dir;
  auto config = dir.write("bad.json", R"({"read_models": [],
    "commands": {"aggregates": ["invoice"]}})");
  auto result = run_node("", {"--config", config});
  BOOST_TEST(result.exit_code == 2);
  BOOST_TEST(result.err.find("no aggregate type 'invoice'") != std::string::npos,
             result.err);
}

BOOST_AUTO_TEST_CASE(stream_versions_survive_a_restart_on_the_store) {
  scratch_dir dir;
  // A snapshot after every event: the restarted node loads orders from
  // snapshots it made while reading the log back.
  auto config = dir.write("shop.json", R"({
    "read_models": [{"name": "orders", "kind": "document", "key": "order_id",
                     "merge_on": ["OrderPlaced", "OrderPaid", "OrderCancelled"]}],
    "commands": {"aggregates": ["order"], "snapshot_every": 1}})");
  std::vector<std::string> args{"--config", config, "--store", dir.store()};
  auto first = replies_to(command(1, "PlaceOrder", "order-1", 0,
                                  R"({"customer": "ann", "amount_cents": 700})")
                            + command(2, "PayOrder", "order-1", 1,
                                      R"({"amount_cents": 700})")
                            + command(3, "PlaceOrder", "order-2", 0,
                                      R"({"customer": "bob", "amount_cents": 40})"),
                          args);
  BOOST_REQUIRE_EQUAL(first.size(), 3u);
  for (auto& r : first)
    BOOST_REQUIRE_MESSAGE(r.text("type") == "command_ok", r.line);
  auto second = replies_to(
    command(1, "CancelOrder", "order-2", 0) + command(2, "CancelOrder", "order-1", 2)
      + command(3, "CancelOrder", "order-2", 1, R"({"reason": "late"})")
      + query(4, "orders", "order-2"),
    args);
  BOOST_REQUIRE_EQUAL(second.size(), 4u);
  BOOST_TEST(second[0].json("code") == "30");
  BOOST_TEST(second[0].text("text")
             == "stream 'order-2': expected version 0, but it is at version 1");
  // Restored from its snapshot: paid, so it cannot be cancelled.
  BOOST_TEST(second[1].json("code") == "22");
  BOOST_TEST(second[1].text("text")
             == "CancelOrder on 'order-1': cannot cancel an order that is paid");
  BOOST_REQUIRE_MESSAGE(second[2].text("type") == "command_ok", second[2].line);
  BOOST_TEST(second[2].json("version") == "2");
  // The log went on from seq 3.
  BOOST_TEST(second[2].body.at("events").at(0).at("seq").as_int64() == 4);
  BOOST_TEST(second[3].line.find(R"("status": "cancelled")") != std::string::npos,
             second[3].line);
}

BOOST_AUTO_TEST_CASE(the_shop_end_to_end_equals_an_independent_fold) {
  std::mt19937 rng{20261202};
  constexpr int orders = 80;
  std::map<std::string, order_model> model;
  std::vector<sent_command> sent;
  std::string input;
  long long id = 0;
  auto pick = [&](int n) { return std::uniform_int_distribution<int>{0, n - 1}(rng); };
  for (int i = 0; i < 400; ++i) {
    auto key = "order-" + std::to_string(pick(orders));
    auto& m = model[key];
    // Mostly the right version; sometimes a stale or a future one.
    auto version = m.version;
    auto skew = pick(10);
    if (skew == 0 && version > 0)
      version -= 1;
    else if (skew == 1)
      version += 1;
    auto conflict = version != m.version;
    auto kind = pick(4);
    std::string name, data;
    bool valid = false;
    boost::json::object event;
    if (kind == 0) {
      auto amount = 100 + pick(900);
      name = "PlaceOrder";
      data = R"({"customer": "c)" + std::to_string(pick(5)) + R"(", "amount_cents": )"
             + std::to_string(amount) + "}";
      valid = m.status == "none";
      event = {{"order_id", key},
               {"customer", boost::json::parse(data).at("customer")},
               {"amount_cents", amount},
               {"status", "placed"}};
      if (valid && !conflict)
        m.amount = amount;
    } else if (kind == 1 || kind == 2) {
      // A right amount mostly, a wrong one sometimes.
      auto amount = pick(4) == 0 ? m.amount + 1 : m.amount;
      name = "PayOrder";
      data = R"({"amount_cents": )" + std::to_string(amount > 0 ? amount : 1) + "}";
      valid = m.status == "placed" && amount == m.amount;
      event = {{"order_id", key}, {"paid_cents", amount}, {"status", "paid"}};
    } else {
      name = "CancelOrder";
      data = R"({"reason": "r)" + std::to_string(i) + R"("})";
      valid = m.status == "placed";
      event = {{"order_id", key},
               {"reason", "r" + std::to_string(i)},
               {"status", "cancelled"}};
    }
    input += command(++id, name, key, version, data);
    auto expected = conflict ? outcome::conflict
                    : valid  ? outcome::ok
                             : outcome::rejected;
    sent.push_back({id, key, expected});
    if (expected == outcome::ok) {
      m.version += 1;
      m.status = event.at("status").as_string();
      for (auto& kv : event)
        m.document[kv.key()] = kv.value();
    }
  }
  for (int o = 0; o < orders; ++o)
    input += query(++id, "orders", "order-" + std::to_string(o));
  auto replies = replies_to(input, {"--config", shop_config});
  BOOST_REQUIRE_EQUAL(replies.size(), sent.size() + orders);
  std::size_t ok = 0, conflicts = 0, rejected = 0;
  long long last_seq = 0;
  for (std::size_t i = 0; i < sent.size(); ++i) {
    auto& r = replies[i];
    BOOST_TEST_CONTEXT(r.line) {
      switch (sent[i].expected) {
        case outcome::ok:
          ++ok;
          BOOST_REQUIRE(r.text("type") == "command_ok");
          // Seqs grow by one per taken command: nothing else was appended.
          BOOST_TEST(r.body.at("events").at(0).at("seq").as_int64() == last_seq + 1);
          last_seq += 1;
          break;
        case outcome::conflict:
          ++conflicts;
          BOOST_TEST(r.json("code") == "30");
          break;
        case outcome::rejected:
          ++rejected;
          BOOST_TEST(r.json("code") == "22");
          break;
      }
    }
  }
  // The stream exercised every path.
  BOOST_TEST_MESSAGE(ok << " taken, " << conflicts << " conflicts, " << rejected
                        << " rejected");
  BOOST_TEST(ok > 60u);
  BOOST_TEST(conflicts > 10u);
  BOOST_TEST(rejected > 50u);
  for (int o = 0; o < orders; ++o) {
    auto key = "order-" + std::to_string(o);
    auto& r = replies[sent.size() + static_cast<std::size_t>(o)];
    auto& m = model[key];
    BOOST_TEST_CONTEXT(r.line) {
      if (m.document.empty()) {
        BOOST_TEST(r.json("code") == "20");
      } else {
        BOOST_REQUIRE(r.text("type") == "query_ok");
        BOOST_TEST(boost::json::serialize(r.body.at("value"))
                   == boost::json::serialize(m.document));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(command_requests_parse_into_commands) {
  auto line = boost::json::parse(
    R"({"src": "c", "dest": "n", "body": {"type": "command", "msg_id": 1, "command": "PlaceOrder", "stream": "order-9", "expected_version": 4, "data": {"customer": "x"}}})");
  bus::node::request req{
    boost::json::make_shared_resource<boost::json::monotonic_resource>()};
  bus::node::parse_request(line.as_object(), req);
  BOOST_REQUIRE((req.kind == request_kind::command));
  BOOST_REQUIRE(req.cmd != nullptr);
  BOOST_TEST(req.cmd->name == "PlaceOrder");
  BOOST_TEST(req.cmd->stream == "order-9");
  BOOST_TEST(req.cmd->expected_version == 4u);
  BOOST_TEST(boost::json::serialize(req.cmd->data) == R"({"customer":"x"})");
}

BOOST_AUTO_TEST_SUITE_END()
