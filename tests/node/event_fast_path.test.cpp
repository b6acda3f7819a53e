// The node's fast path for event lines (bus::plain_json_reader) against its general
// path (Boost.JSON and parse_request): a line the fast path takes must come out exactly
// as the general path parses it, or replies and the read models' documents would
// change; every other line must be left to the general path.

#include "event_fast_path.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "protocol.hpp"

using namespace bus::node;

namespace {

// A chunk's arena, as the node's reader hands one to the fast path.
boost::json::storage_ptr chunk_arena() {
  return boost::json::make_shared_resource<boost::json::monotonic_resource>();
}

// A request made for the general path: its payload in a chunk's arena.
request fresh_request() {
  return request{chunk_arena()};
}

request general_path(const std::string& line) {
  auto value = boost::json::parse(line);
  auto req = fresh_request();
  parse_request(value.as_object(), req);
  return req;
}

// Everything of a request a reply or a read model sees, as text: kinds
// count (an int64 and a uint64 msg_id render alike but are not the same).
std::string describe(const request& req) {
  return std::to_string(static_cast<int>(req.kind)) + "|" + req.src + "|" + req.dest
         + "|" + std::to_string(static_cast<int>(req.msg_id.kind())) + ":"
         + boost::json::serialize(req.msg_id) + "|" + req.ev.type + "|" + req.ev.id
         + "|" + (req.ev.id_derived ? "derived" : "given") + "|"
         + boost::json::serialize(req.ev.payload) + "|" + req.text;
}

std::string kinds_of(const boost::json::value& v) {
  std::string out = std::to_string(static_cast<int>(v.kind()));
  if (auto* obj = v.if_object())
    for (auto& kv : *obj)
      out += "," + std::string{kv.key()} + "=" + kinds_of(kv.value());
  if (auto* arr = v.if_array())
    for (auto& x : *arr)
      out += "," + kinds_of(x);
  return out;
}

std::string event_line(const std::string& msg_id, const std::string& event) {
  return R"({"src": "gen", "dest": "node", "body": {"type": "event", "msg_id": )"
         + msg_id + R"(, "event": )" + event + "}}";
}

} // namespace

BOOST_AUTO_TEST_SUITE(event_fast_path)

BOOST_AUTO_TEST_CASE(plain_event_lines_come_out_as_the_general_path_parses_them) {
  std::vector<std::string> lines = {
    event_line(
      "1",
      R"({"type": "UserCreated", "id": "e1", "payload": {"id": "user-1", "name": "Ann"}})"),
    // No id: derived from payload.id, as the general path does.
    event_line(
      "2",
      R"({"type": "UserUpdated", "payload": {"id": "user-42", "email": "a@x.org"}})"),
    event_line("9223372036854775808",
               R"({"payload": {"id": "u"}, "type": "T", "id": "e"})"),
    event_line("-7", R"({"id": "e7", "payload": {}, "type": "T"})"),
    event_line(
      "18446744073709551615",
      R"({"type": "T", "id": "e", "payload": {"n": -9223372036854775808, "m": 18446744073709551615, "z": 0, "neg0": -0}})"),
    event_line(
      "3",
      R"({"type": "T", "id": "e", "payload": {"a": [1, "two", [true, false, null], {"b": {"c": []}}], "d": {}, "utf8": "Zoë, 東京", "empty": ""}})"),
    R"({"body":{"event":{"payload":{"id":"user-5"},"type":"UserDeleted"},"msg_id":5,"type":"event"},"dest":"n","src":"c"})",
    "  {\"src\":\"a\",\"dest\":\"b\",\"body\":{\"type\":\"event\",\"msg_id\":6,\"event\":{\"type\":\"T\",\"id\":\"x\",\"payload\":{\"k\":1}}}}\t ",
  };
  for (auto& line : lines) {
    BOOST_TEST_CONTEXT(line) {
      bus::node::event_fast_path fast;
      request req;
      BOOST_TEST_REQUIRE(fast.parse(line, req, chunk_arena()));
      // Left in the record form the log stores: no object built.
      BOOST_TEST(!req.ev.payload.decoded());
      auto expected = general_path(line);
      BOOST_TEST(describe(req) == describe(expected));
      BOOST_TEST(kinds_of(req.ev.payload.object())
                 == kinds_of(expected.ev.payload.object()));
      BOOST_TEST((req.ev.payload.storage() == expected.ev.payload.storage())
                 == false); // the general path's in its arena, not this one's
    }
  }
}

BOOST_AUTO_TEST_CASE(lines_on_which_the_parsers_may_differ_are_left_alone) {
  std::vector<std::string> lines = {
    // Escapes (surrogates, NUL) and floating-point numbers.
    event_line("1", R"({"type": "T", "id": "e", "payload": {"s": "a\"b"}})"),
    event_line("1", R"({"type": "T", "id": "e", "payload": {"s": "\ud83d\ude00"}})"),
    event_line("1", R"({"type": "T", "id": "e", "payload": {"x": 0.1}})"),
    event_line("1", R"({"type": "T", "id": "e", "payload": {"x": 1e400}})"),
    event_line("1.0", R"({"type": "T", "id": "e", "payload": {}})"),
    // Duplicate keys: Boost.JSON keeps the last.
    event_line("1", R"({"type": "T", "id": "e", "payload": {"k": 1, "k": 2}})"),
    event_line("1", R"({"type": "T", "type": "U", "id": "e", "payload": {}})"),
    R"({"src": "a", "src": "b", "dest": "n", "body": {"type": "event", "msg_id": 1, "event": {"type": "T", "id": "e", "payload": {}}}})",
    // Deeper than the fast path builds.
    event_line(
      "1",
      R"({"type": "T", "id": "e", "payload": {"d": [[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]}})"),
    // Other shapes and every error: the general path words the reply.
    event_line("\"m1\"", R"({"type": "T", "id": "e", "payload": {}})"),
    event_line("1", R"({"type": "T", "id": "e", "payload": {}, "extra": 1})"),
    event_line("1", R"({"type": "", "id": "e", "payload": {}})"),
    event_line("1", R"({"type": "T", "id": "", "payload": {}})"),
    event_line("1", R"({"type": "T", "id": 5, "payload": {}})"),
    event_line("1", R"({"type": "T", "payload": {"name": "no id to derive"}})"),
    event_line("1", R"({"type": "T", "id": "e", "payload": [1]})"),
    event_line("1", R"({"type": "T", "id": "e"})"),
    R"({"src": "c", "dest": "n", "body": {"type": "query", "msg_id": 1, "model": "m", "key": "k"}})",
    R"({"src": "c", "dest": "n", "body": {"type": "event", "msg_id": 1, "event": {"type": "T", "id": "e", "payload": {}}}, "x": 1})",
    R"({"src": 1, "dest": "n", "body": {"type": "event", "msg_id": 1, "event": {"type": "T", "id": "e", "payload": {}}}})",
    event_line("1", R"({"type": "T", "id": "e", "payload": {}})") + "x",
    event_line("1", R"({"type": "T", "id": "e", "payload": {}})").substr(0, 40),
    "\xef\xbb\xbf" + event_line("1", R"({"type": "T", "id": "e", "payload": {}})"),
    event_line("1", "{\"type\": \"T\", \"id\": \"e\", \"payload\": {\"s\": \"\xff\"}}"),
    "[1, 2]",
    "",
  };
  for (auto& line : lines) {
    BOOST_TEST_CONTEXT(line) {
      bus::node::event_fast_path fast;
      request req;
      BOOST_TEST(!fast.parse(line, req, chunk_arena()));
      // Left fresh for the general path.
      BOOST_TEST(describe(req) == describe(request{}));
      BOOST_TEST(req.ev.payload.empty());
    }
  }
}

BOOST_AUTO_TEST_CASE(one_parser_serves_many_lines) {
  bus::node::event_fast_path fast;
  std::string long_name(100000, 'n');
  for (auto& line :
       {event_line("1", R"({"type": "T", "id": "e1", "payload": {"a": 1}})"),
        event_line("2", R"({"type": "T", "id": "e2", "payload": {"name": ")" + long_name
                          + R"("}})"),
        event_line("3", R"({"type": "T", "id": "e3", "payload": {"b": 2}})")}) {
    request req;
    BOOST_TEST_REQUIRE(fast.parse(line, req, chunk_arena()));
    BOOST_TEST(describe(req) == describe(general_path(line)));
  }
}

BOOST_AUTO_TEST_SUITE_END()
