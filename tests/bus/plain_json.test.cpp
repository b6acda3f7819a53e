// JSON text read straight into records (bus/plain_json.hpp): what the
// reader takes comes out as Boost.JSON parses it, byte for byte the record
// the log writes for that object; everything else (escapes, doubles, keys
// twice, deep nesting, and text that is not JSON) is refused, so that the
// caller leaves it to Boost.JSON.

#include "bus/plain_json.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "bus/event.hpp"
#include "bus/event_payload.hpp"
#include "internal/event_record.hpp"

using namespace bus;

namespace {

// The record the log writes for the object Boost.JSON parses from `text`.
std::string record_of(const std::string& text) {
  event e;
  e.id = "e";
  e.type = "T";
  e.payload = event_payload{boost::json::parse(text).as_object()};
  std::string out;
  internal::encode_event(e, out);
  return out;
}

// The same, for a record the reader wrote.
std::string record_of_bytes(std::string_view bytes) {
  event e;
  e.id = "e";
  e.type = "T";
  e.payload = event_payload::encoded(bytes);
  std::string out;
  internal::encode_event(e, out);
  return out;
}

bool reads(plain_json_reader& in, const std::string& text) {
  in.reset(text);
  return in.object_record() && in.at_end();
}

void check_same_as_boost(plain_json_reader& in, const std::string& text) {
  BOOST_TEST_CONTEXT(text) {
    BOOST_TEST_REQUIRE(reads(in, text));
    BOOST_TEST(record_of_bytes(in.record()) == record_of(text));
    BOOST_TEST(event_payload::encoded(in.record()).object()
               == boost::json::parse(text).as_object());
  }
}

std::string nested(int depth) {
  std::string text;
  for (int i = 1; i < depth; ++i)
    text += i % 2 == 1 ? "{\"k\": " : "[";
  text += "{}";
  for (int i = depth - 1; i >= 1; --i)
    text += i % 2 == 1 ? "}" : "]";
  return text;
}

} // namespace

BOOST_AUTO_TEST_SUITE(plain_json)

BOOST_AUTO_TEST_CASE(plain_objects_read_as_boost_json_parses_them) {
  plain_json_reader in;
  for (
    std::string text : std::vector<std::string>{
      R"({})",
      R"({"id": "user-1", "name": "Ann", "email": "a@x.org"})",
      R"({"a":[1,"two",[true,false,null],{"b":{"c":[]}}],"d":{},"e":""})",
      " \t\r\n{ \"k\" : [ 1 , 2 ] , \"m\" : { } }\n ",
      R"({"utf8": "Zoë, 東京, 😀", "key ü": "√"})",
      R"({"n": -9223372036854775808, "m": 9223372036854775807, "u": 9223372036854775808})",
      R"({"u": 18446744073709551615, "z": 0, "neg0": -0, "small": -1})",
      R"({"long": "a string longer than sixteen bytes, and then some more text"})",
    })
    check_same_as_boost(in, text);
}

BOOST_AUTO_TEST_CASE(containers_of_128_and_more_take_a_longer_count) {
  // A count of 128 or more takes two bytes, which the reader makes room
  // for once it has counted: the record must still be exact.
  plain_json_reader in;
  for (int n : {127, 128, 300, 20000}) {
    std::string members = "{";
    std::string elements = "[";
    for (int i = 0; i < n; ++i) {
      members += (i ? ", \"k" : "\"k") + std::to_string(i) + "\": " + std::to_string(i);
      elements += (i ? ", " : "") + std::to_string(i);
    }
    members += "}";
    elements += "]";
    check_same_as_boost(in, members);
    check_same_as_boost(in, R"({"a": )" + elements + R"(, "o": )" + members + "}");
    check_same_as_boost(in, R"({"x": [)" + elements + ", " + members + R"(], "y": 1})");
  }
}

BOOST_AUTO_TEST_CASE(a_string_ends_wherever_its_quote_falls) {
  // The scan takes 16 bytes at a time: put the quote, an escape and a
  // multi-byte character at every offset of a block, and near the end.
  plain_json_reader in;
  for (int at = 0; at < 40; ++at) {
    std::string pad(static_cast<std::size_t>(at), 'x');
    check_same_as_boost(in, R"({"s": ")" + pad + R"("})");
    check_same_as_boost(in, R"({"s": ")" + pad + "é" + pad + R"("})");
    BOOST_TEST(!reads(in, R"({"s": ")" + pad + R"(\n"})"));
    std::string unterminated = R"({"s": ")" + pad;
    in.reset(unterminated);
    BOOST_TEST(!in.object_record());
  }
}

BOOST_AUTO_TEST_CASE(strings_that_are_not_plain_utf8_are_refused) {
  plain_json_reader in;
  for (const auto& bad : std::vector<std::string>{
         "\\\"",                          // an escape
         "\\u00e9",                       // another
         std::string{"a\x01"},            // a control character
         std::string{"\x7f\t"},           // a tab as it is
         std::string{"\xff"},             // never in UTF-8
         std::string{"\xc0\x80"},         // an overlong NUL
         std::string{"\xe0\x80\x80"},     // overlong
         std::string{"\xed\xa0\x80"},     // a surrogate
         std::string{"\xf4\x90\x80\x80"}, // above U+10FFFF
         std::string{"\xe6\x9d"},         // cut short
         std::string{"\xc3"},             // cut short at the quote
       }) {
    BOOST_TEST_CONTEXT(bad) {
      BOOST_TEST(!reads(in, R"({"s": ")" + bad + R"("})"));
      BOOST_TEST(!reads(in, R"({")" + bad + R"(": 1})"));
    }
  }
}

BOOST_AUTO_TEST_CASE(what_boost_json_would_make_a_double_is_refused) {
  plain_json_reader in;
  for (const auto& number :
       std::vector<std::string>{"1.5", "1e3", "1E3", "-0.0", "18446744073709551616",
                                "-9223372036854775809", "99999999999999999999999"}) {
    BOOST_TEST_CONTEXT(number) {
      auto text = R"({"n": )" + number + "}";
      in.reset(text);
      BOOST_TEST(!in.object_record());
    }
  }
}

BOOST_AUTO_TEST_CASE(integers_are_typed_as_boost_json_types_them) {
  plain_json_reader in;
  struct expected {
    std::string text;
    plain_integer::kind type;
    std::uint64_t bits;
  };
  for (auto& x : std::vector<expected>{
         {"0", plain_integer::kind::int64, 0},
         {"-0", plain_integer::kind::int64, 0},
         {"42", plain_integer::kind::int64, 42},
         {"-1", plain_integer::kind::int64, ~std::uint64_t{0}},
         {"9223372036854775807", plain_integer::kind::int64, 9223372036854775807ull},
         {"9223372036854775808", plain_integer::kind::uint64, 9223372036854775808ull},
         {"18446744073709551615", plain_integer::kind::uint64, 18446744073709551615ull},
         {"-9223372036854775808", plain_integer::kind::int64, 9223372036854775808ull},
       }) {
    BOOST_TEST_CONTEXT(x.text) {
      auto text = " " + x.text + " "; // the reader views it
      in.reset(text);
      plain_integer read;
      BOOST_TEST_REQUIRE(in.integer(read));
      BOOST_TEST((read.type == x.type));
      BOOST_TEST(read.bits == x.bits);
      BOOST_TEST(in.at_end());
      auto parsed = boost::json::parse(x.text);
      BOOST_TEST((parsed.is_uint64() == (x.type == plain_integer::kind::uint64)));
    }
  }
  for (const auto& bad :
       std::vector<std::string>{"", "-", "01", "-01", "+1", "1.", "1e", "a"}) {
    BOOST_TEST_CONTEXT(bad) {
      in.reset(bad);
      plain_integer read;
      BOOST_TEST(!in.integer(read));
    }
  }
}

BOOST_AUTO_TEST_CASE(a_key_twice_is_refused_at_any_depth) {
  plain_json_reader in;
  BOOST_TEST(!reads(in, R"({"k": 1, "k": 2})"));
  BOOST_TEST(!reads(in, R"({"a": {"k": 1, "j": [], "k": 2}})"));
  BOOST_TEST(!reads(in, R"({"a": [{"k": 1, "k": 1}]})"));
  // Keys of different objects may be the same.
  check_same_as_boost(in, R"({"k": {"k": {"k": 1}}, "j": [{"k": 1}, {"k": 2}]})");
  // Past 16 keys the check sorts them.
  std::string many = "{";
  for (int i = 0; i < 40; ++i)
    many += "\"k" + std::to_string(i) + "\": " + std::to_string(i) + ", ";
  check_same_as_boost(in, many + "\"last\": 0}");
  BOOST_TEST(!reads(in, many + "\"k17\": 0}"));
}

BOOST_AUTO_TEST_CASE(nesting_deeper_than_the_record_depth_is_refused) {
  plain_json_reader in;
  check_same_as_boost(in, nested(plain_json_reader::max_record_depth));
  BOOST_TEST(!reads(in, nested(plain_json_reader::max_record_depth + 1)));
}

BOOST_AUTO_TEST_CASE(text_that_is_not_json_is_refused) {
  plain_json_reader in;
  for (const auto& bad : std::vector<std::string>{
         "",
         "{",
         "}",
         "[]",
         R"({"a"})",
         R"({"a": })",
         R"({"a": 1,})",
         R"({,"a": 1})",
         R"({"a": 1 "b": 2})",
         R"({"a": 0x1})",
         R"({"a": 12a})",
         R"({"a": tru})",
         R"({"a": nul})",
         R"({"a": falsey})",
         R"({"a": [1,]})",
         R"({"a": [1 2]})",
         R"({a: 1})",
         R"({"a": 'x'})",
         R"({"a": 1}})",
         std::string{"{\"a\": 1}\0", 9},
         R"({"a": 1}{"b": 2})",
         "\xef\xbb\xbf{}",
       }) {
    BOOST_TEST_CONTEXT(bad) {
      BOOST_TEST(!reads(in, bad));
    }
  }
}

BOOST_AUTO_TEST_CASE(a_reader_serves_text_after_text) {
  plain_json_reader in;
  BOOST_TEST(!reads(in, R"({"a": [1, 2, {"b": "unterminated)"));
  check_same_as_boost(in, R"({"a": 1})");
  std::string big = R"({"s": ")" + std::string(100000, 'n') + R"("})";
  check_same_as_boost(in, big);
  check_same_as_boost(in, R"({"b": 2})");
  // A string views the text; the record does not.
  std::string text = R"("view")";
  in.reset(text);
  std::string_view s;
  BOOST_TEST_REQUIRE(in.string(s));
  BOOST_TEST(s == "view");
}

BOOST_AUTO_TEST_CASE(a_known_key_is_one_of_the_names_written_as_it_is) {
  static constexpr std::string_view names[] = {"type", "id", "payload"};
  plain_json_reader in;
  auto key_of = [&](const std::string& text) -> int {
    in.reset(text);
    std::size_t index = 99;
    if (!in.known_key(names, index))
      return -1;
    return static_cast<int>(index);
  };
  BOOST_TEST(key_of(R"("type": 1)") == 0);
  BOOST_TEST(key_of(R"( "id" :"e")") == 1);
  BOOST_TEST(key_of(R"("payload":{})") == 2);
  // Not one of them: a prefix, a longer key, an escape, another case.
  BOOST_TEST(key_of(R"("i": 1)") == -1);
  BOOST_TEST(key_of(R"("idx": 1)") == -1);
  BOOST_TEST(key_of(R"("\u0069d": 1)") == -1);
  BOOST_TEST(key_of(R"("ID": 1)") == -1);
  // Not a key: no colon, no closing quote, no opening quote.
  BOOST_TEST(key_of(R"("id" 1)") == -1);
  BOOST_TEST(key_of(R"("id)") == -1);
  BOOST_TEST(key_of(R"(id": 1)") == -1);
  // Past the colon: the value comes next.
  std::string text = R"("id": "e7")";
  in.reset(text);
  std::size_t index = 0;
  std::string_view value;
  BOOST_TEST_REQUIRE(in.known_key(names, index));
  BOOST_TEST_REQUIRE(in.string(value));
  BOOST_TEST(value == "e7");
  BOOST_TEST(in.at_end());
}

BOOST_AUTO_TEST_SUITE_END()
