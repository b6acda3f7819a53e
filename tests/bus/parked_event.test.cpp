#include "bus/parked_event.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "bus/errc.hpp"

using namespace bus;
using namespace std::literals;

namespace {

parked_event sample() {
  parked_event x;
  x.event.seq = 17;
  x.event.id = "evt-17";
  x.event.type = "UserUpdated";
  x.event.timestamp = 1700000000123456789;
  x.event.payload["id"] = "u1";
  x.event.payload["n"] = 3;
  x.event.metadata["trace"] = "t-1";
  x.key = "u1";
  x.error = "division by zero";
  x.attempts = 3;
  x.parked_at = 1700000000999;
  return x;
}

void check_same(const parked_event& a, const parked_event& b) {
  BOOST_TEST(a.event.seq == b.event.seq);
  BOOST_TEST(a.event.id == b.event.id);
  BOOST_TEST(a.event.type == b.event.type);
  BOOST_TEST(a.event.timestamp == b.event.timestamp);
  BOOST_TEST(a.event.schema_version == b.event.schema_version);
  BOOST_TEST((a.event.payload == b.event.payload));
  BOOST_TEST((a.event.metadata == b.event.metadata));
  BOOST_TEST((a.key == b.key));
  BOOST_TEST((a.reason == b.reason));
  BOOST_TEST(a.error == b.error);
  BOOST_TEST(a.behind == b.behind);
  BOOST_TEST(a.attempts == b.attempts);
  BOOST_TEST(a.parked_at == b.parked_at);
}

void check_rejected(std::string_view text, const std::string& why) {
  BOOST_TEST_CONTEXT(text) {
    auto x = parked_event_from_json(boost::json::parse(text));
    BOOST_REQUIRE(!x);
    BOOST_TEST(code_of(x.error()) == errc::invalid_event);
    BOOST_TEST(context_of(x.error()) == why);
  }
}

} // namespace

BOOST_AUTO_TEST_SUITE(parked_event)

BOOST_AUTO_TEST_CASE(a_failed_event_round_trips_through_json) {
  auto x = sample();
  auto back = parked_event_from_json(to_json(x));
  BOOST_REQUIRE(back);
  check_same(*back, x);
  auto json = to_json(x);
  BOOST_TEST(json.at("reason").as_string() == "failed");
  BOOST_TEST(json.at("error").as_string() == "division by zero");
  BOOST_TEST(!json.contains("behind"));
}

BOOST_AUTO_TEST_CASE(an_event_parked_behind_another_names_it) {
  auto x = sample();
  x.reason = park_reason::behind;
  x.error.clear();
  x.behind = 12;
  x.attempts = 0;
  auto json = to_json(x);
  BOOST_TEST(json.at("reason").as_string() == "behind");
  BOOST_TEST(json.at("behind").as_uint64() == 12u);
  BOOST_TEST(!json.contains("error"));
  auto back = parked_event_from_json(json);
  BOOST_REQUIRE(back);
  check_same(*back, x);
}

BOOST_AUTO_TEST_CASE(an_event_without_a_key_has_a_null_key) {
  auto x = sample();
  x.key.reset();
  auto json = to_json(x);
  BOOST_TEST(json.at("key").is_null());
  auto back = parked_event_from_json(json);
  BOOST_REQUIRE(back);
  BOOST_TEST(!back->key);
  // An empty key is a key, not none.
  x.key = "";
  back = parked_event_from_json(to_json(x));
  BOOST_REQUIRE(back);
  BOOST_TEST((back->key == std::optional<std::string>{""}));
}

BOOST_AUTO_TEST_CASE(a_list_round_trips_through_text) {
  std::vector<bus::parked_event> xs{sample(), sample()};
  xs[1].event.seq = 18;
  xs[1].reason = park_reason::behind;
  xs[1].error.clear();
  xs[1].behind = 17;
  xs[1].attempts = 0;
  auto text = parked_events_text(xs);
  auto back = parked_events_from_text(text);
  BOOST_REQUIRE(back);
  BOOST_REQUIRE_EQUAL(back->size(), 2u);
  check_same((*back)[0], xs[0]);
  check_same((*back)[1], xs[1]);
  BOOST_TEST(parked_events_text({}) == "[]");
  // A store written before parking existed has no list at all.
  auto none = parked_events_from_text("");
  BOOST_REQUIRE(none);
  BOOST_TEST(none->empty());
  auto bad = parked_events_from_text("{}");
  BOOST_REQUIRE(!bad);
  BOOST_TEST(code_of(bad.error()) == errc::invalid_event);
}

BOOST_AUTO_TEST_CASE(malformed_entries_name_the_field) {
  check_rejected("[]", "parked event: expected an object");
  check_rejected(R"({"reason": "failed"})", "parked event.event: expected an event");
  check_rejected(R"({"event": {"type": "A"}, "reason": "failed"})",
                 "parked event.event.payload: expected an object");
  auto ev = R"("event": {"type": "A", "payload": {}, "seq": 3})"s;
  check_rejected("{" + ev + R"(, "reason": "lost"})",
                 R"(parked event.reason: expected "failed" or "behind")");
  check_rejected("{" + ev + R"(, "reason": "failed", "key": 1})",
                 "parked event.key: expected a string or null");
  check_rejected("{" + ev + R"(, "reason": "failed", "attempts": -1})",
                 "parked event.attempts: expected a non-negative integer");
  check_rejected("{" + ev + R"(, "reason": "behind", "behind": "x"})",
                 "parked event.behind: expected a seq");
}

BOOST_AUTO_TEST_CASE(park_reasons_have_one_string_form_each_way) {
  for (auto x : {park_reason::failed, park_reason::behind})
    BOOST_TEST((park_reason_from_string(to_string(x)) == x));
  BOOST_TEST(!park_reason_from_string("Failed"));
}

BOOST_AUTO_TEST_CASE(now_is_in_milliseconds_since_the_epoch) {
  auto now = now_ms();
  BOOST_TEST(now > 1600000000000); // after 2020, before year 2286 in ms
  BOOST_TEST(now < 10000000000000);
}

BOOST_AUTO_TEST_SUITE_END()
