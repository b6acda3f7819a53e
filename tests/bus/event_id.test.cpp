#include "bus/event_id.hpp"

#include "support/json_events.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <limits>
#include <string>

#include "bus/event.hpp"
#include "internal/event_record.hpp"

using namespace bus;
using bus::test::json_object;

namespace {

// The id derived from the payload as an object, checked to be the one
// derived from the same payload still in its record form (as bus-node's
// reader leaves it), which stays there.
std::string derive(std::string_view payload_text) {
  auto payload = json_object(payload_text);
  auto from_object = derive_event_id(payload).value_or("<none>");
  event e;
  e.id = "e";
  e.type = "T";
  e.payload = payload;
  std::string record;
  internal::encode_event(e, record);
  event lazy;
  internal::decode_event_lazy(
    internal::record_cursor{record.data(), record.size()}.next(), 1, lazy);
  BOOST_TEST(derive_event_id(lazy.payload).value_or("<none>") == from_object);
  BOOST_TEST(!lazy.payload.decoded());
  return from_object;
}

} // namespace

BOOST_AUTO_TEST_SUITE(event_id)

BOOST_AUTO_TEST_CASE(derived_id_is_evt_plus_what_follows_the_last_dash) {
  BOOST_TEST(derive(R"({"id": "user-123"})") == "evt-123");
  BOOST_TEST(derive(R"({"id": "tenant-7-user-42"})") == "evt-42");
  BOOST_TEST(derive(R"({"id": "user-123", "name": "John"})") == "evt-123");
}

BOOST_AUTO_TEST_CASE(id_without_a_dash_is_used_whole) {
  BOOST_TEST(derive(R"({"id": "abc"})") == "evt-abc");
  BOOST_TEST(derive(R"({"id": "x"})") == "evt-x");
}

BOOST_AUTO_TEST_CASE(numeric_id_is_used_in_decimal) {
  BOOST_TEST(derive(R"({"id": 123})") == "evt-123");
  BOOST_TEST(derive(R"({"id": 0})") == "evt-0");
  BOOST_TEST(derive(R"({"id": -5})") == "evt-5");
  boost::json::object payload;
  payload["id"] = std::numeric_limits<std::uint64_t>::max();
  BOOST_TEST(derive_event_id(payload).value_or("<none>") == "evt-18446744073709551615");
}

BOOST_AUTO_TEST_CASE(missing_empty_or_non_string_id_derives_nothing) {
  BOOST_TEST(derive(R"({})") == "<none>");
  BOOST_TEST(derive(R"({"name": "John"})") == "<none>");
  BOOST_TEST(derive(R"({"id": ""})") == "<none>");
  BOOST_TEST(derive(R"({"id": null})") == "<none>");
  BOOST_TEST(derive(R"({"id": true})") == "<none>");
  BOOST_TEST(derive(R"({"id": ["user-1"]})") == "<none>");
  BOOST_TEST(derive(R"({"id": {"value": "user-1"}})") == "<none>");
}

BOOST_AUTO_TEST_CASE(id_ending_in_a_dash_derives_nothing) {
  BOOST_TEST(derive(R"({"id": "user-"})") == "<none>");
  BOOST_TEST(derive(R"({"id": "-"})") == "<none>");
}

BOOST_AUTO_TEST_CASE(only_the_top_level_id_counts) {
  BOOST_TEST(derive(R"({"user": {"id": "user-5"}})") == "<none>");
}

BOOST_AUTO_TEST_CASE(fingerprint_does_not_depend_on_key_order) {
  auto a = json_object(R"({"id": "user-1", "name": "John", "age": 30})");
  auto b = json_object(R"({"age": 30, "name": "John", "id": "user-1"})");
  BOOST_TEST(content_fingerprint("UserCreated", a)
             == content_fingerprint("UserCreated", b));
  auto nested_a = json_object(R"({"user": {"id": 1, "tags": ["a", "b"]}, "x": null})");
  auto nested_b = json_object(R"({"x": null, "user": {"tags": ["a", "b"], "id": 1}})");
  BOOST_TEST(content_fingerprint("T", nested_a) == content_fingerprint("T", nested_b));
}

BOOST_AUTO_TEST_CASE(fingerprint_differs_for_different_types) {
  auto payload = json_object(R"({"id": "user-1"})");
  BOOST_TEST(content_fingerprint("UserCreated", payload)
             != content_fingerprint("UserUpdated", payload));
  BOOST_TEST(content_fingerprint("", payload) != content_fingerprint("A", payload));
}

BOOST_AUTO_TEST_CASE(fingerprint_differs_for_different_payloads) {
  auto fp = [](std::string_view text) {
    return content_fingerprint("T", json_object(text));
  };
  BOOST_TEST(fp(R"({"id": "user-1"})") != fp(R"({"id": "user-2"})"));
  BOOST_TEST(fp(R"({"id": "user-1"})") != fp(R"({"id": "user-1", "x": 1})"));
  // Same text, different kinds.
  BOOST_TEST(fp(R"({"v": 1})") != fp(R"({"v": "1"})"));
  BOOST_TEST(fp(R"({"v": true})") != fp(R"({"v": "true"})"));
  BOOST_TEST(fp(R"({"v": null})") != fp(R"({"v": {}})"));
  BOOST_TEST(fp(R"({"v": []})") != fp(R"({"v": {}})"));
  // Array order matters; object key order does not.
  BOOST_TEST(fp(R"({"v": [1, 2]})") != fp(R"({"v": [2, 1]})"));
  // Token boundaries cannot be shifted between keys and values.
  BOOST_TEST(fp(R"({"a": "bc"})") != fp(R"({"ab": "c"})"));
  BOOST_TEST(fp(R"({"v": ["ab", "c"]})") != fp(R"({"v": ["a", "bc"]})"));
  // The type and the payload do not blur into each other either.
  BOOST_TEST(content_fingerprint("T", json_object(R"({"a": 1})"))
             != content_fingerprint("T1", json_object(R"({"a": 1})")));
}

BOOST_AUTO_TEST_CASE(fingerprint_of_equal_content_is_stable) {
  auto payload = json_object(R"({"id": "user-1", "n": 1.5})");
  auto copy = payload;
  BOOST_TEST(content_fingerprint("T", payload) == content_fingerprint("T", copy));
  BOOST_TEST(content_fingerprint("T", payload) != 0u);
}

BOOST_AUTO_TEST_CASE(alternate_id_appends_sixteen_hex_digits) {
  BOOST_TEST(alternate_event_id("evt-123", 0xabcu, 1) == "evt-123-0000000000000abc");
  BOOST_TEST(alternate_event_id("evt-1", 0xffffffffffffffffu, 1)
             == "evt-1-ffffffffffffffff");
}

BOOST_AUTO_TEST_CASE(alternate_id_counts_further_collisions) {
  BOOST_TEST(alternate_event_id("evt-123", 0x1u, 2) == "evt-123-0000000000000001-2");
  BOOST_TEST(alternate_event_id("evt-123", 0x1u, 3) == "evt-123-0000000000000001-3");
}

BOOST_AUTO_TEST_SUITE_END()
