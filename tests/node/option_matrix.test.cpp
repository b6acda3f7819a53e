// bus-node with configurations and options used together, as users combine
// them: an upcaster (every model then copies events on its own thread), a
// partitioned model, a table model, parking, small batches, a store with
// frequent snapshots, a restart halfway. Each feature has its own tests;
// their combinations did not, and bus-node with an upcaster and two models
// crashed within a few ten thousand events. Every run must answer the
// queries as the same configuration does in memory with the defaults.

#include <boost/test/unit_test.hpp>

#include <map>
#include <string>
#include <vector>

#include "node_protocol.hpp"
#include "user_stream.hpp"

using namespace bus::node::test;

namespace {

constexpr std::size_t matrix_events = 24000;
constexpr std::size_t matrix_users = 2000;
constexpr long long first_query = 1'000'000;

// Both models, each (but the first) with one feature more.
const std::map<std::string, std::string>& matrix_configs() {
  static const std::string listing
    = R"("name": "user_listing", "kind": "document", "key": "id",
         "merge_on": ["UserCreated", "UserUpdated"], "delete_on": ["UserDeleted"])";
  static const std::string emails
    = R"({"name": "user_by_email", "kind": "index", "key": "email", "target": "id",
          "set_on": ["UserCreated", "UserUpdated"], "delete_on": ["UserDeleted"]})";
  static const std::string upcaster
    = R"(, "upcasters": [{"type": "UserCreated", "from": 1,
                          "defaults": {"country": "unknown"}}])";
  static const std::map<std::string, std::string> configs{
    {"plain", R"({"read_models": [{)" + listing + "}, " + emails + "]}"},
    {"upcaster",
     R"({"read_models": [{)" + listing + "}, " + emails + "]" + upcaster + "}"},
    {"partitioned", R"({"read_models": [{)" + listing + R"(, "partitions": 3}, )"
                      + emails + "]" + upcaster + "}"},
    {"table", R"({"read_models": [{)" + listing + R"(, "storage": "sqlite"}, )" + emails
                + "]" + upcaster + "}"},
    {"parking", R"({"read_models": [{)" + listing
                  + R"(, "on_error": {"attempts": 2, "backoff_ms": 0, "then": "park",
              "order": "per_key"}}, )"
                  + emails + "]" + upcaster + "}"},
  };
  return configs;
}

// The query replies of a run, in order, and how many event replies were
// errors.
struct answers {
  std::vector<std::string> queries;
  std::size_t event_errors = 0;
};

answers answers_of(const std::vector<reply>& replies) {
  answers result;
  for (auto& r : replies) {
    if (r.in_reply_to() >= first_query)
      result.queries.push_back(r.line);
    else if (r.text("type") == "error")
      ++result.event_errors;
  }
  return result;
}

// Splits `input` after its first `n` lines.
std::pair<std::string, std::string> split_after(const std::string& input,
                                                std::size_t n) {
  std::size_t pos = 0;
  for (std::size_t i = 0; i < n; ++i)
    pos = input.find('\n', pos) + 1;
  return {input.substr(0, pos), input.substr(pos)};
}

} // namespace

BOOST_AUTO_TEST_SUITE(option_matrix)

BOOST_AUTO_TEST_CASE(every_combination_answers_as_the_defaults_in_memory) {
  auto stream = make_stream(matrix_events, matrix_users, 10);
  auto emails = some_emails(stream, 100);
  auto input = requests(stream, matrix_users) + email_queries(emails);
  for (auto& [name, config_text] : matrix_configs()) {
    BOOST_TEST_CONTEXT("config " << name) {
      scratch_dir dir;
      auto config = dir.write(name + ".json", config_text);
      auto in_memory = replies_to(input, {"--config", config});
      if (name == "plain") // the reference itself against the stream's fold
        check_queries(in_memory, matrix_events, stream, matrix_users, emails);
      auto reference = answers_of(in_memory);
      BOOST_TEST(reference.event_errors == 0u);
      BOOST_REQUIRE_EQUAL(reference.queries.size(), matrix_users + emails.size());
      std::map<std::string, std::vector<std::string>> variants{
        {"small batches", {"--config", config, "--batch-size", "7"}},
        {"store",
         {"--config", config, "--store", dir.store() + "-whole", "--snapshot-every",
          "700", "--durability", "os"}},
      };
      for (auto& [variant, args] : variants) {
        BOOST_TEST_CONTEXT("variant " << variant) {
          auto got = answers_of(replies_to(input, args));
          BOOST_TEST(got.event_errors == 0u);
          BOOST_TEST(got.queries == reference.queries,
                     boost::test_tools::per_element());
        }
      }
      BOOST_TEST_CONTEXT("variant restart halfway") {
        std::vector<std::string> args{"--config",         config,
                                      "--store",          dir.store(),
                                      "--snapshot-every", "700",
                                      "--durability",     "os"};
        auto [first, second] = split_after(input, matrix_events / 2);
        auto before = answers_of(replies_to(first, args));
        auto after = answers_of(replies_to(second, args));
        BOOST_TEST(before.event_errors + after.event_errors == 0u);
        BOOST_TEST(after.queries == reference.queries,
                   boost::test_tools::per_element());
      }
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
