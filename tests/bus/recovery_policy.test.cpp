#include "bus/recovery_policy.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "bus/config.hpp"
#include "bus/errc.hpp"

using namespace bus;
using namespace std::literals;
using ms = std::chrono::milliseconds;

namespace {

// A configuration with one document model whose entry ends with `extra`
// (e.g. `, "on_error": {...}`).
std::string model_with(std::string_view extra) {
  std::string text = R"({"read_models": [{"name": "m", "kind": "document",
                         "key": "id", "merge_on": ["A"])";
  text += extra;
  text += "}]}";
  return text;
}

template <class T>
std::string why(const caf::expected<T>& x) {
  return x ? std::string{} : context_of(x.error());
}

// Parses a one-model configuration and returns the model's policy.
recovery_policy policy_of(std::string_view extra) {
  auto cfg = parse_config(model_with(extra));
  BOOST_REQUIRE_MESSAGE(cfg, why(cfg));
  BOOST_REQUIRE_EQUAL(cfg->read_models.size(), 1u);
  return cfg->read_models[0].recovery;
}

// Checks that `extra` is rejected with exactly the context `why`.
void check_rejected(std::string_view extra, std::string_view why) {
  BOOST_TEST_CONTEXT("entry tail " << extra) {
    auto cfg = parse_config(model_with(extra));
    BOOST_REQUIRE(!cfg);
    BOOST_TEST(code_of(cfg.error()) == errc::invalid_config);
    BOOST_TEST(context_of(cfg.error()) == why);
  }
}

} // namespace

BOOST_AUTO_TEST_SUITE(recovery_policy)

BOOST_AUTO_TEST_CASE(default_parks_after_three_attempts_in_key_order) {
  bus::recovery_policy p;
  BOOST_TEST(p.attempts == 3u);
  BOOST_TEST(p.backoff.count() == 100);
  BOOST_TEST(p.max_backoff.count() == 5000);
  BOOST_TEST((p.then == on_poison::park));
  BOOST_TEST((p.order == key_order::per_key));
  // A model entry without "on_error" gets the default, as does a C++ model
  // whose spec leaves it alone.
  auto parsed = policy_of("");
  BOOST_TEST(parsed.attempts == 3u);
  BOOST_TEST((parsed.then == on_poison::park));
  BOOST_TEST((model_spec{}.recovery.order == key_order::per_key));
}

BOOST_AUTO_TEST_CASE(backoff_doubles_up_to_its_bound) {
  bus::recovery_policy p;
  p.backoff = ms{100};
  p.max_backoff = ms{1000};
  BOOST_TEST(p.delay_before(1).count() == 0); // the first try waits for nothing
  BOOST_TEST(p.delay_before(2).count() == 100);
  BOOST_TEST(p.delay_before(3).count() == 200);
  BOOST_TEST(p.delay_before(5).count() == 800);
  BOOST_TEST(p.delay_before(6).count() == 1000);
  BOOST_TEST(p.delay_before(4000000000u).count() == 1000);
  p.backoff = ms{0};
  BOOST_TEST(p.delay_before(4000000000u).count() == 0);
  p.backoff = ms{INT64_MAX / 2 + 1};
  p.max_backoff = ms{INT64_MAX};
  BOOST_TEST(p.delay_before(3).count() == INT64_MAX); // no overflow
}

BOOST_AUTO_TEST_CASE(enums_have_one_string_form_each_way) {
  for (auto x : {on_poison::park, on_poison::stop})
    BOOST_TEST((on_poison_from_string(to_string(x)) == x));
  for (auto x : {key_order::per_key, key_order::none})
    BOOST_TEST((key_order_from_string(to_string(x)) == x));
  BOOST_TEST(to_string(on_poison::park) == "park"s);
  BOOST_TEST(to_string(key_order::per_key) == "per_key"s);
  BOOST_TEST(!on_poison_from_string("Park"));
  BOOST_TEST(!key_order_from_string(""));
}

BOOST_AUTO_TEST_CASE(on_error_settings_are_read) {
  auto p = policy_of(R"(, "on_error": {"attempts": 5, "backoff_ms": 10,
                         "max_backoff_ms": 80, "then": "stop", "order": "none"})");
  BOOST_TEST(p.attempts == 5u);
  BOOST_TEST(p.backoff.count() == 10);
  BOOST_TEST(p.max_backoff.count() == 80);
  BOOST_TEST((p.then == on_poison::stop));
  BOOST_TEST((p.order == key_order::none));
  // Omitted settings keep their defaults.
  auto q = policy_of(R"(, "on_error": {"then": "park"})");
  BOOST_TEST(q.attempts == 3u);
  BOOST_TEST((q.order == key_order::per_key));
  // Index models take the same entry.
  auto cfg = parse_config(R"({"read_models": [{"name": "i", "kind": "index",
    "key": "email", "target": "id", "set_on": ["A"],
    "on_error": {"attempts": 1, "order": "none"}}]})"sv);
  BOOST_REQUIRE_MESSAGE(cfg, why(cfg));
  BOOST_TEST(cfg->read_models[0].recovery.attempts == 1u);
  BOOST_TEST((cfg->read_models[0].recovery.order == key_order::none));
}

BOOST_AUTO_TEST_CASE(on_error_is_as_strict_as_the_rest_of_the_config) {
  check_rejected(R"(, "on_error": {"atempts": 3})",
                 "read_models[0].on_error.atempts: unknown key");
  check_rejected(R"(, "on_error": {"attempts": 0})",
                 "read_models[0].on_error.attempts: expected an integer >= 1");
  check_rejected(R"(, "on_error": {"attempts": 2.5})",
                 "read_models[0].on_error.attempts: expected an integer >= 1");
  check_rejected(R"(, "on_error": {"backoff_ms": -1})",
                 "read_models[0].on_error.backoff_ms: expected an integer >= 0");
  check_rejected(R"(, "on_error": {"backoff_ms": 500, "max_backoff_ms": 100})",
                 "read_models[0].on_error.max_backoff_ms: expected at least "
                 "backoff_ms (500)");
  check_rejected(R"(, "on_error": {"then": "skip"})",
                 R"(read_models[0].on_error.then: expected "park" or "stop")");
  check_rejected(R"(, "on_error": {"order": "global"})",
                 R"(read_models[0].on_error.order: expected "per_key" or "none")");
  check_rejected(R"(, "on_error": {"order": 1})",
                 "read_models[0].on_error.order: expected a non-empty string");
  check_rejected(R"(, "on_error": "park")",
                 "read_models[0].on_error: expected an object");
}

BOOST_AUTO_TEST_CASE(a_blue_green_definition_takes_on_error_too) {
  auto v = boost::json::parse(R"({"name": "m", "kind": "document", "key": "id",
    "merge_on": ["A"], "on_error": {"then": "stop"}})");
  auto spec = parse_model_definition(v, "definition");
  BOOST_REQUIRE(spec);
  BOOST_TEST((spec->recovery.then == on_poison::stop));
  auto bad = parse_model_definition(
    boost::json::parse(R"({"name": "m", "kind": "document", "key": "id",
      "merge_on": ["A"], "on_error": {"then": "later"}})"),
    "definition");
  BOOST_REQUIRE(!bad);
  BOOST_TEST(context_of(bad.error())
             == R"(definition.on_error.then: expected "park" or "stop")");
}

BOOST_AUTO_TEST_SUITE_END()
