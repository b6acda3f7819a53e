#include "bus/admin/json_style.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <limits>
#include <string>

using namespace bus::admin;

namespace {

// What Boost.JSON writes for the string `s` (the reference: the node's
// replies must read the same as before they were written in place).
std::string reference(const std::string& s) {
  return boost::json::serialize(boost::json::string{s});
}

std::string rendered(const std::string& s) {
  std::string out = "x"; // appends, never overwrites
  render_string(out, s);
  return out.substr(1);
}

std::string written(const std::string& s) {
  std::string out(max_string_size(s), '\0');
  auto* end = write_string(out.data(), s);
  out.resize(static_cast<std::size_t>(end - out.data()));
  return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(json_style)

BOOST_AUTO_TEST_CASE(every_ascii_byte_at_every_position_is_escaped_as_boost_does) {
  // Strings of 1 to 19 bytes cover both the eight-byte steps and the tail.
  for (std::size_t length = 1; length < 20; ++length) {
    for (std::size_t at = 0; at < length; ++at) {
      for (int c = 1; c < 128; ++c) {
        std::string s(length, 'a');
        s[at] = static_cast<char>(c);
        auto expected = reference(s);
        BOOST_TEST_REQUIRE(rendered(s) == expected);
        BOOST_TEST_REQUIRE(written(s) == expected);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(nul_bytes_and_utf8_are_kept_apart) {
  std::string with_nul{"ab\0cd", 5};
  BOOST_TEST(rendered(with_nul) == "\"ab\\u0000cd\"");
  BOOST_TEST(rendered("Zoë, 東京") == reference("Zoë, 東京"));
  BOOST_TEST(rendered("") == "\"\"");
  std::string all_escaped(30, '\x01');
  BOOST_TEST(written(all_escaped).size() == max_string_size(all_escaped));
}

BOOST_AUTO_TEST_CASE(integers_render_as_boost_serializes_them) {
  for (auto text : {"0", "-1", "42", "-9223372036854775808", "9223372036854775807",
                    "18446744073709551615"}) {
    auto v = boost::json::parse(text);
    std::string out;
    render_json(out, v);
    BOOST_TEST(out == text);
    BOOST_TEST(out == boost::json::serialize(v));
  }
}

BOOST_AUTO_TEST_SUITE_END()
