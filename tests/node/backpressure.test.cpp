// Right answers under pressure (issue 8), seen from the protocol: a long run
// of distinct events must be answered as if each came alone, whatever the
// batch size, with queries in between answered from the events before them;
// and status must not report lag or skips for a model that merely has
// nothing to do. Each run is a real bus-node under a hard time limit.

#include <boost/test/unit_test.hpp>

#include <fstream>
#include <string>
#include <vector>

#include <boost/json/serialize.hpp>

#include "node_protocol.hpp"
#include "user_stream.hpp"

using namespace bus::node::test;
using namespace std::chrono_literals;

namespace {

// updated_models of a UserCreated event in the default configuration, as
// reply::json() renders it.
const std::string both_models = R"(["user_listing","user_by_email"])";

// Queries get msg_ids from here on, events 1 to n.
constexpr long long first_query_id = 1'000'000;

// The payload of the i-th user; also the value its user_listing query must
// return (a document model keeps the merged payload).
std::string user_payload(std::size_t i) {
  auto n = std::to_string(i);
  return R"({"id":"user-)" + n + R"(","name":"User )" + n + R"(","email":"u)" + n
         + R"(@shop.example"})";
}

// `n` distinct UserCreated events with explicit ids; after every
// `query_every`-th one, a query of the user it just created.
std::string created_stream(std::size_t n, std::size_t query_every) {
  std::string input;
  input.reserve(n * 160);
  long long query_id = first_query_id;
  for (std::size_t i = 1; i <= n; ++i) {
    input += event(static_cast<long long>(i), "UserCreated", user_payload(i),
                   "created-" + std::to_string(i));
    if (query_every > 0 && i % query_every == 0)
      input += query(query_id++, "user_listing", "user-" + std::to_string(i));
  }
  return input;
}

// Feeds created_stream(20000, 500) to bus-node with `args` and checks every
// reply. Failures are counted, not reported one by one, so that a broken
// node yields a few readable lines: how many replies were wrong, and the
// first of each kind.
void check_created_stream(const std::vector<std::string>& args) {
  constexpr std::size_t events = 20'000;
  constexpr std::size_t query_every = 500;
  auto replies = replies_to(created_stream(events, query_every), args);
  BOOST_REQUIRE_EQUAL(replies.size(), events + events / query_every);
  std::size_t wrong_events = 0;
  std::size_t empty_models = 0;
  std::size_t wrong_queries = 0;
  std::string first_wrong_event;
  std::string first_wrong_query;
  long long next_event = 1;
  long long next_query = first_query_id;
  for (auto& r : replies) {
    auto id = r.in_reply_to();
    if (id < first_query_id) {
      // Replies come in request order.
      BOOST_REQUIRE_EQUAL(id, next_event);
      ++next_event;
      if (r.text("type") == "read_models_updated"
          && r.json("updated_models") == both_models
          && r.text("event_id") == "created-" + std::to_string(id))
        continue;
      if (r.json("updated_models") == "[]")
        ++empty_models;
      if (wrong_events++ == 0)
        first_wrong_event = r.line;
      continue;
    }
    BOOST_REQUIRE_EQUAL(id, next_query);
    auto user = static_cast<std::size_t>(id - first_query_id + 1) * query_every;
    ++next_query;
    if (r.text("type") == "query_ok" && r.text("key") == "user-" + std::to_string(user)
        && r.json("value") == user_payload(user))
      continue;
    if (wrong_queries++ == 0)
      first_wrong_query = r.line;
  }
  BOOST_TEST(wrong_events == 0u,
             wrong_events << " of " << events
                          << " event replies are not read_models_updated "
                             "naming both models ("
                          << empty_models
                          << " with updated_models []); first: " << first_wrong_event);
  BOOST_TEST(wrong_queries == 0u, wrong_queries
                                    << " of " << events / query_every
                                    << " queries are not answered query_ok with "
                                       "the user; first: "
                                    << first_wrong_query);
}

// The default configuration plus `refunds`, a model that takes only
// RefundIssued: with a stream of user events it is idle, not behind.
constexpr const char* idle_model_config = R"({"read_models": [
  {"name": "user_listing", "kind": "document", "key": "id",
   "merge_on": ["UserCreated", "UserUpdated"], "delete_on": ["UserDeleted"]},
  {"name": "user_by_email", "kind": "index", "key": "email", "target": "id",
   "set_on": ["UserCreated", "UserUpdated"], "delete_on": ["UserDeleted"]},
  {"name": "refunds", "kind": "document", "key": "refund_id",
   "upsert_on": ["RefundIssued"]}
]})";

// Feeds 5,000 distinct UserCreated events, no redeliveries, to bus-node
// with the idle-model configuration and `args`, then checks its status:
// every model is at the head, with no lag and nothing skipped.
void check_idle_model_status(const std::vector<std::string>& extra_args) {
  constexpr std::size_t events = 5'000;
  scratch_dir dir;
  auto config = (dir.path / "idle-model.json").string();
  std::ofstream{config} << idle_model_config;
  std::vector<std::string> args{"--config", config};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  auto input = created_stream(events, 0);
  input += request(R"({"type": "status", "msg_id": "status"})");
  auto replies = replies_to(input, args);
  BOOST_REQUIRE_EQUAL(replies.size(), events + 1);
  auto& status = replies.back();
  BOOST_REQUIRE_MESSAGE(status.text("type") == "status_ok", status.line);
  BOOST_TEST(status.json("head") == std::to_string(events), status.line);
  auto& models = status.body.at("read_models").as_array();
  BOOST_REQUIRE_EQUAL(models.size(), 3u);
  for (auto& value : models) {
    auto& m = value.as_object();
    auto name = std::string{m.at("model").as_string()};
    BOOST_TEST_CONTEXT(name << ": " << boost::json::serialize(m)) {
      BOOST_TEST(m.at("state").as_string() == "running");
      BOOST_TEST(m.at("checkpoint").as_int64() == static_cast<std::int64_t>(events));
      BOOST_TEST(m.at("lag_events").as_int64() == 0);
      // protocol.md: lag_ms is 0 without lag (absent would do as well).
      if (auto* lag_ms = m.if_contains("lag_ms"))
        BOOST_TEST(lag_ms->as_int64() == 0);
      // Skips count redeliveries; this stream has none.
      BOOST_TEST(m.at("skipped").as_int64() == 0);
      auto applied = name == "refunds" ? 0 : static_cast<std::int64_t>(events);
      BOOST_TEST(m.at("applied").as_int64() == applied);
    }
  }
}

} // namespace

BOOST_AUTO_TEST_SUITE(backpressure)

BOOST_AUTO_TEST_CASE(event_after_a_batch_no_model_takes_is_named_by_its_models) {
  // The smallest run of the same accounting: the queries cut the stream
  // into batches, so the OrderShipped event, which no model takes, is a
  // batch of its own, and the UserUpdated after it must be named and
  // applied once, not skipped.
  auto replies = replies_to(
    event(1, "UserCreated", R"({"id":"user-1","name":"Ann"})", "e1")
    + query(2, "user_listing", "user-1")
    + event(3, "OrderShipped", R"({"id":"order-1"})", "e2")
    + query(4, "user_listing", "user-1")
    + event(5, "UserUpdated", R"({"id":"user-1","name":"Bo"})", "e3")
    + query(6, "user_listing", "user-1")
    + request(R"({"type": "status", "msg_id": 7})"));
  BOOST_REQUIRE_EQUAL(replies.size(), 7u);
  BOOST_TEST(replies[4].text("type") == "read_models_updated", replies[4].line);
  BOOST_TEST(replies[4].json("updated_models") == both_models, replies[4].line);
  BOOST_TEST(replies[5].json("value") == R"({"id":"user-1","name":"Bo"})",
             replies[5].line);
  for (auto& m : replies[6].body.at("read_models").as_array()) {
    BOOST_TEST(m.at("applied").as_int64() == 2, replies[6].line);
    BOOST_TEST(m.at("skipped").as_int64() == 0, replies[6].line);
  }
}

BOOST_AUTO_TEST_CASE(every_event_is_applied_by_its_models_with_batch_size_1) {
  check_created_stream({"--batch-size", "1"});
}

// With a store, a publish stays under way through its group commit: the
// node keeps more publishes of small batches under way, and the bus must
// take as many from it (one refused would be answered with an error).
BOOST_AUTO_TEST_CASE(
  every_event_is_applied_by_its_models_with_batch_size_1_and_a_store) {
  scratch_dir dir;
  check_created_stream(
    {"--batch-size", "1", "--store", (dir.path / "bus.db").string()});
}

BOOST_AUTO_TEST_CASE(every_event_is_applied_by_its_models_with_batch_size_64) {
  check_created_stream({"--batch-size", "64"});
}

BOOST_AUTO_TEST_CASE(every_event_is_applied_by_its_models_with_the_default_batch_size) {
  check_created_stream({});
}

BOOST_AUTO_TEST_CASE(idle_model_is_at_the_head_without_lag_or_skips) {
  check_idle_model_status({});
}

BOOST_AUTO_TEST_CASE(idle_model_is_at_the_head_without_lag_or_skips_with_batch_size_1) {
  check_idle_model_status({"--batch-size", "1"});
}

BOOST_AUTO_TEST_CASE(events_alternating_taken_and_not_taken_keep_to_the_flow_control) {
  // A subscribe narrows the node to UserCreated; the events alternate
  // between it and UserUpdated, so each one is a batch of its own (logged
  // or only resolved). Each batch is a request to the bus: the node must
  // hold the next one back once it has as many under way as it may, or
  // the bus refuses the excess ("64 publishes unanswered", error 13), and
  // those events are not acknowledged.
  constexpr long long events = 2000;
  std::string input = subscribe(1, {"UserCreated"});
  for (long long i = 2; i <= events + 1; ++i) {
    auto type = i % 2 == 0 ? "UserCreated" : "UserUpdated";
    auto n = std::to_string(i);
    input += event(i, type, R"({"id":"user-)" + n + R"(","name":"User )" + n + R"("})",
                   "e" + n);
  }
  auto replies = replies_to(input);
  BOOST_REQUIRE_EQUAL(replies.size(), static_cast<std::size_t>(events + 1));
  std::size_t wrong = 0;
  std::string first_wrong;
  for (std::size_t i = 1; i < replies.size(); ++i) {
    auto& r = replies[i];
    auto taken = r.in_reply_to() % 2 == 0;
    if (r.text("type") == "read_models_updated"
        && r.json("updated_models") == (taken ? both_models : "[]"))
      continue;
    if (wrong++ == 0)
      first_wrong = r.line;
  }
  BOOST_TEST(wrong == 0u,
             wrong << " events not acknowledged, the first: " << first_wrong);
}

BOOST_AUTO_TEST_SUITE_END()
