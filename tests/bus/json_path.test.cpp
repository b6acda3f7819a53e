#include "bus/json_path.hpp"

#include "support/json_events.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <limits>
#include <string>

using namespace bus;
using bus::test::json_object;

namespace {

std::string key_at(std::string_view path, std::string_view payload_text) {
  return bus::json_path{path}.find_key(json_object(payload_text)).value_or("<none>");
}

} // namespace

BOOST_AUTO_TEST_SUITE(json_path)

BOOST_AUTO_TEST_CASE(dotted_names_are_valid_paths) {
  BOOST_TEST(bus::json_path{"id"}.valid());
  BOOST_TEST(bus::json_path{"user.id"}.valid());
  BOOST_TEST(bus::json_path{"a.b.c.d"}.valid());
}

BOOST_AUTO_TEST_CASE(empty_segments_make_the_path_invalid) {
  BOOST_TEST(!bus::json_path{""}.valid());
  BOOST_TEST(!bus::json_path{"."}.valid());
  BOOST_TEST(!bus::json_path{".id"}.valid());
  BOOST_TEST(!bus::json_path{"id."}.valid());
  BOOST_TEST(!bus::json_path{"user..id"}.valid());
  BOOST_TEST(!bus::json_path{}.valid());
}

BOOST_AUTO_TEST_CASE(invalid_path_finds_nothing) {
  auto root = json_object(R"({"": 1, "id": 2})");
  BOOST_TEST(bus::json_path{}.find(root) == nullptr);
  BOOST_TEST(bus::json_path{"id."}.find(root) == nullptr);
}

BOOST_AUTO_TEST_CASE(find_follows_nested_objects) {
  auto root = json_object(R"({"id": 1, "user": {"id": "u1",
                              "address": {"city": "Oslo"}}})");
  auto* top = bus::json_path{"id"}.find(root);
  BOOST_REQUIRE(top != nullptr);
  BOOST_TEST(*top == boost::json::value(1));
  auto* city = bus::json_path{"user.address.city"}.find(root);
  BOOST_REQUIRE(city != nullptr);
  BOOST_TEST(*city == boost::json::value("Oslo"));
  auto* address = bus::json_path{"user.address"}.find(root);
  BOOST_REQUIRE(address != nullptr);
  BOOST_TEST(address->is_object());
}

BOOST_AUTO_TEST_CASE(find_of_a_missing_field_returns_null) {
  auto root = json_object(R"({"user": {"id": "u1", "tags": ["a"]},
                              "name": "x"})");
  BOOST_TEST(bus::json_path{"email"}.find(root) == nullptr);
  BOOST_TEST(bus::json_path{"user.email"}.find(root) == nullptr);
  // Paths do not go through strings or arrays.
  BOOST_TEST(bus::json_path{"name.length"}.find(root) == nullptr);
  BOOST_TEST(bus::json_path{"user.tags.0"}.find(root) == nullptr);
  BOOST_TEST(bus::json_path{"user.id.x"}.find(root) == nullptr);
}

BOOST_AUTO_TEST_CASE(key_of_a_string_is_the_string) {
  BOOST_TEST(key_at("id", R"({"id": "user-1"})") == "user-1");
  BOOST_TEST(key_at("user.email", R"({"user": {"email": "a@x.org"}})") == "a@x.org");
  BOOST_TEST(key_at("id", R"({"id": ""})") == "");
}

BOOST_AUTO_TEST_CASE(key_of_an_integer_is_its_decimal_text) {
  BOOST_TEST(key_at("id", R"({"id": 42})") == "42");
  BOOST_TEST(key_at("id", R"({"id": -7})") == "-7");
  boost::json::object big;
  big["id"] = std::numeric_limits<std::uint64_t>::max();
  BOOST_TEST(bus::json_path{"id"}.find_key(big).value_or("<none>")
             == "18446744073709551615");
}

BOOST_AUTO_TEST_CASE(key_of_other_kinds_is_nothing) {
  BOOST_TEST(key_at("id", R"({"id": 1.5})") == "<none>");
  BOOST_TEST(key_at("id", R"({"id": true})") == "<none>");
  BOOST_TEST(key_at("id", R"({"id": null})") == "<none>");
  BOOST_TEST(key_at("id", R"({"id": [1]})") == "<none>");
  BOOST_TEST(key_at("id", R"({"id": {"v": 1}})") == "<none>");
  BOOST_TEST(key_at("id", R"({})") == "<none>");
}

BOOST_AUTO_TEST_SUITE_END()
