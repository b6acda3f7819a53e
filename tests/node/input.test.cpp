// What the node does with its input as a stream of lines: lines that are
// not requests are reported on stderr and skipped, overlong lines are
// skipped without being buffered, the last line counts without '\n', every
// reply is written before a clean exit, and the command line is checked.

#include "node_protocol.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace bus::node::test;

namespace {

// True when `err` mentions "line <n>" (not the prefix of a longer number).
bool mentions_line(const std::string& err, std::size_t n) {
  auto needle = "line " + std::to_string(n);
  for (auto i = err.find(needle); i != std::string::npos; i = err.find(needle, i + 1)) {
    auto end = i + needle.size();
    if (end == err.size() || !std::isdigit(static_cast<unsigned char>(err[end])))
      return true;
  }
  return false;
}

std::vector<long long> in_reply_tos(const std::vector<reply>& replies) {
  std::vector<long long> result;
  for (auto& r : replies)
    result.push_back(r.in_reply_to());
  return result;
}

// Runs the node, requires exit 0 and returns the whole result.
process_result run_ok(std::string_view input,
                      const std::vector<std::string>& args = {}) {
  auto result = run_node(input, args);
  BOOST_REQUIRE_MESSAGE(result.exit_code == 0,
                        "exit " << result.exit_code << ", stderr: " << result.err);
  return result;
}

// An init request line of exactly `size` bytes (without '\n').
std::string init_of_size(long long msg_id, std::size_t size) {
  auto head = R"({"src": "client", "dest": "node", "body": {"type": "init", "msg_id": )"
              + std::to_string(msg_id) + R"(, "node_ids": [], "node_id": ")";
  std::string tail = "\"}}";
  BOOST_REQUIRE(size > head.size() + tail.size());
  return head + std::string(size - head.size() - tail.size(), 'n') + tail;
}

// A directory under the system's temporary directory, removed at the end.
class temp_dir {
public:
  temp_dir() {
    auto pattern
      = (std::filesystem::temp_directory_path() / "bus-node-XXXXXX").string();
    BOOST_REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }

  /// Writes `text` to the file `name` in the directory; returns its path.
  std::string write(const std::string& name, std::string_view text) const {
    auto file = (path_ / name).string();
    std::ofstream out{file};
    out << text;
    BOOST_REQUIRE(out.good());
    return file;
  }

private:
  std::filesystem::path path_;
};

} // namespace

BOOST_AUTO_TEST_SUITE(input)

BOOST_AUTO_TEST_CASE(empty_input_exits_cleanly_without_output) {
  auto result = run_ok("");
  BOOST_TEST(result.out.empty());
}

BOOST_AUTO_TEST_CASE(line_that_is_not_json_is_reported_and_skipped) {
  auto result = run_ok(init(1) + "this is not json\n"
                       + R"({"src": "client", "dest": "node", "body": {"type": "init")"
                         "\n"
                       + init(2)
                       + R"({"src": "c", "dest": "n"} {"x": 1})"
                         "\n"
                       + init(3));
  auto replies = replies_of(result);
  BOOST_TEST(in_reply_tos(replies) == (std::vector<long long>{1, 2, 3}),
             boost::test_tools::per_element());
  BOOST_TEST(mentions_line(result.err, 2), result.err);
  BOOST_TEST(mentions_line(result.err, 3), result.err);
  BOOST_TEST(mentions_line(result.err, 5), result.err);
  // The good lines are not complained about.
  BOOST_TEST(!mentions_line(result.err, 1), result.err);
  BOOST_TEST(!mentions_line(result.err, 4), result.err);
  BOOST_TEST(!mentions_line(result.err, 6), result.err);
}

BOOST_AUTO_TEST_CASE(json_that_is_not_an_object_is_reported_and_skipped) {
  auto result = run_ok("[" + init(1).substr(0, init(1).size() - 1)
                       + "]\n" // an array of a request
                       + "42\n\"init\"\nnull\n" + init(2));
  auto replies = replies_of(result);
  BOOST_TEST(in_reply_tos(replies) == (std::vector<long long>{2}),
             boost::test_tools::per_element());
  for (std::size_t line = 1; line <= 4; ++line)
    BOOST_TEST(mentions_line(result.err, line), "line " << line << ": " << result.err);
  BOOST_TEST(!mentions_line(result.err, 5), result.err);
}

BOOST_AUTO_TEST_CASE(empty_line_is_reported_and_skipped) {
  auto result = run_ok(init(1) + "\n" + "   \t\n" + init(2));
  auto replies = replies_of(result);
  BOOST_TEST(in_reply_tos(replies) == (std::vector<long long>{1, 2}),
             boost::test_tools::per_element());
  BOOST_TEST(mentions_line(result.err, 2), result.err);
  BOOST_TEST(mentions_line(result.err, 3), result.err);
}

BOOST_AUTO_TEST_CASE(line_over_max_line_bytes_is_reported_and_skipped) {
  auto big = event(2, "UserCreated",
                   R"({"id": "user-1", "bio": ")" + std::string(300, 'b') + "\"}");
  auto result = run_ok(init(1) + big + init(3) + "garbage\n"
                         + query(5, "user_listing", "user-1"),
                       {"--max-line-bytes", "200"});
  auto replies = replies_of(result);
  BOOST_REQUIRE_EQUAL(replies.size(), 3u);
  BOOST_TEST(replies[0].in_reply_to() == 1);
  BOOST_TEST(replies[1].in_reply_to() == 3);
  // The skipped event never reached the models.
  BOOST_TEST(replies[2].in_reply_to() == 5);
  BOOST_TEST(replies[2].json("code") == "20", replies[2].line);
  BOOST_TEST(mentions_line(result.err, 2), result.err);
  // Lines after the overlong one keep their numbers.
  BOOST_TEST(mentions_line(result.err, 4), result.err);
  BOOST_TEST(!mentions_line(result.err, 3), result.err);
}

BOOST_AUTO_TEST_CASE(max_line_bytes_is_inclusive) {
  auto result = run_ok(init_of_size(1, 200) + "\n" + init_of_size(2, 201) + "\n"
                         + init_of_size(3, 199) + "\n",
                       {"--max-line-bytes", "200"});
  auto replies = replies_of(result);
  BOOST_TEST(in_reply_tos(replies) == (std::vector<long long>{1, 3}),
             boost::test_tools::per_element());
  BOOST_TEST(mentions_line(result.err, 2), result.err);
}

BOOST_AUTO_TEST_CASE(default_limit_takes_500_kb_and_skips_2_mb) {
  auto blob = std::string(500'000, 'x');
  auto result = run_ok(
    event(1, "UserCreated", R"({"id": "user-1", "bio": ")" + blob + "\"}")
    + event(2, "UserCreated",
            R"({"id": "user-2", "bio": ")" + std::string(2'000'000, 'y') + "\"}")
    + query(3, "user_listing", "user-1") + query(4, "user_listing", "user-2"));
  auto replies = replies_of(result);
  BOOST_REQUIRE_EQUAL(replies.size(), 3u);
  BOOST_TEST(
    replies[0].body_text()
    == R"({"type": "read_models_updated", "in_reply_to": 1, "event_id": "evt-1", "updated_models": ["user_listing", "user_by_email"]})");
  BOOST_TEST(replies[1].in_reply_to() == 3);
  BOOST_TEST(replies[1].text("type") == "query_ok");
  auto* value = replies[1].body.if_contains("value");
  BOOST_TEST((value != nullptr && value->is_object()
              && value->get_object().contains("bio")
              && value->get_object().at("bio") == blob.c_str()));
  BOOST_TEST(replies[2].in_reply_to() == 4);
  BOOST_TEST(replies[2].json("code") == "20", replies[2].line);
  BOOST_TEST(mentions_line(result.err, 2), result.err);
  BOOST_TEST(!mentions_line(result.err, 1), result.err);
}

BOOST_AUTO_TEST_CASE(last_line_without_newline_is_answered) {
  auto last = query(3, "user_listing", "user-1");
  last.pop_back();
  auto replies = replies_to(init(1) + event(2, "UserCreated", R"({"id": "user-1"})")
                            + last);
  BOOST_TEST(in_reply_tos(replies) == (std::vector<long long>{1, 2, 3}),
             boost::test_tools::per_element());
  BOOST_TEST(replies.back().text("type") == "query_ok");
}

BOOST_AUTO_TEST_CASE(every_reply_is_written_before_a_clean_exit) {
  // A stream that ends in the middle of the work: 20,000 events, the last
  // ones still in flight when stdin closes.
  constexpr long long count = 20'000;
  std::string input;
  for (long long i = 1; i <= count; ++i)
    input += event(i, i % 3 == 0 ? "UserUpdated" : "UserCreated",
                   R"({"id": "user-)" + std::to_string(i % 50) + R"(", "n": )"
                     + std::to_string(i) + "}",
                   "e-" + std::to_string(i));
  auto result = run_ok(input);
  auto lines = result.out_lines();
  BOOST_REQUIRE_EQUAL(lines.size(), static_cast<std::size_t>(count));
  BOOST_TEST(result.out.back() == '\n');
  auto replies = replies_of(result);
  for (long long i = 1; i <= count; ++i) {
    auto& r = replies[static_cast<std::size_t>(i - 1)];
    BOOST_TEST_REQUIRE((r.in_reply_to() == i
                        && r.text("type") == "read_models_updated"),
                       "reply " << i << " is " << r.line);
  }
}

BOOST_AUTO_TEST_CASE(stdout_holds_only_reply_objects) {
  // Requests of every kind, good and bad, mixed with lines that are not
  // requests: one reply line per request and nothing else on stdout.
  std::string input;
  long long requests = 0;
  for (int i = 0; i < 200; ++i) {
    auto user = "user-" + std::to_string(i);
    input += event(++requests, "UserCreated", R"({"id": ")" + user + "\"}");
    input += query(++requests, "user_listing", user);
    input += request(R"({"type": "nope", "msg_id": )" + std::to_string(++requests)
                     + "}");
    input += "not json " + std::to_string(i) + "\n[]\n\n";
    input += subscribe(++requests, {"UserCreated", "UserUpdated"});
    input += init(++requests);
  }
  auto result = run_ok(input);
  auto lines = result.out_lines();
  BOOST_REQUIRE_EQUAL(lines.size(), static_cast<std::size_t>(requests));
  long long expected = 0;
  for (auto& line : lines) {
    boost::system::error_code ec;
    auto value = boost::json::parse(line, ec);
    BOOST_TEST_REQUIRE(!ec, "not JSON: " << line);
    auto* obj = value.if_object();
    BOOST_TEST_REQUIRE(obj != nullptr, "not an object: " << line);
    BOOST_TEST_REQUIRE(obj->size() == 3u, line);
    BOOST_TEST_REQUIRE(obj->at("src") == node_name.data(), line);
    BOOST_TEST_REQUIRE(obj->at("dest") == client_name.data(), line);
    auto* body = obj->at("body").if_object();
    BOOST_TEST_REQUIRE(body != nullptr, line);
    BOOST_TEST_REQUIRE(body->at("type").is_string(), line);
    BOOST_TEST_REQUIRE(body->at("in_reply_to") == ++expected, line);
  }
  BOOST_TEST(!result.err.empty());
}

BOOST_AUTO_TEST_CASE(bad_command_line_exits_2_with_a_message) {
  temp_dir dir;
  auto not_json = dir.write("not-json.json", "{ read_models: ");
  auto unknown_key = dir.write("unknown-key.json",
                               R"({"read_models": [], "colour": "blue"})");
  std::vector<std::vector<std::string>> command_lines{
    {"--bogus"},
    {"--max-line-bytes", "0"},
    {"--max-line-bytes", "-5"},
    {"--max-line-bytes", "12kb"},
    {"--max-line-bytes"},
    {"--batch-size", "0"},
    {"--config", "/nonexistent/node.json"},
    {"--config", not_json},
    {"--config", unknown_key},
    {"--config"},
  };
  for (auto& args : command_lines) {
    std::string shown;
    for (auto& a : args)
      shown += " " + a;
    BOOST_TEST_CONTEXT("bus-node" << shown) {
      auto result = run_node(init(1), args);
      BOOST_TEST(result.exit_code == 2);
      BOOST_TEST(!result.err.empty());
      BOOST_TEST(result.out.empty(), result.out);
    }
  }
}

BOOST_AUTO_TEST_CASE(custom_config_defines_the_read_models) {
  temp_dir dir;
  auto config = dir.write("orders.json", R"({
    "read_models": [
      {"name": "orders", "kind": "document", "key": "order_id",
       "merge_on": ["OrderPlaced"]}
    ]
  })");
  auto replies = replies_to(
    event(1, "OrderPlaced", R"({"id": "order-1", "order_id": "o-1", "total": 5})")
      + event(2, "UserCreated", R"({"id": "user-1", "name": "Ann"})")
      + query(3, "orders", "o-1") + query(4, "user_listing", "user-1"),
    {"--config", config});
  BOOST_REQUIRE_EQUAL(replies.size(), 4u);
  BOOST_TEST(
    replies[0].body_text()
    == R"({"type": "read_models_updated", "in_reply_to": 1, "event_id": "evt-1", "updated_models": ["orders"]})");
  BOOST_TEST(replies[1].json("updated_models") == "[]");
  BOOST_TEST(
    replies[2].body_text()
    == R"({"type": "query_ok", "in_reply_to": 3, "model": "orders", "key": "o-1", "value": {"id": "order-1", "order_id": "o-1", "total": 5}})");
  // The default models are not there.
  BOOST_TEST(replies[3].text("type") == "error");
  BOOST_TEST(replies[3].json("code") == "20");
}

BOOST_AUTO_TEST_CASE(updated_models_follow_config_order) {
  temp_dir dir;
  auto config = dir.write("two.json", R"({
    "read_models": [
      {"name": "z_by_sku", "kind": "index", "key": "sku", "target": "id",
       "set_on": ["ItemAdded"]},
      {"name": "a_items", "kind": "document", "key": "id",
       "upsert_on": ["ItemAdded"]}
    ],
    "node": {"max_line_bytes": 150}
  })");
  auto result = run_ok(event(1, "ItemAdded", R"({"id": "item-1", "sku": "S1"})")
                         + event(2, "ItemAdded",
                                 R"({"id": "item-2", "sku": "S2", "pad": ")"
                                   + std::string(150, 'p') + "\"}")
                         + query(3, "z_by_sku", "S1"),
                       {"--config", config});
  auto replies = replies_of(result);
  BOOST_REQUIRE_EQUAL(replies.size(), 2u);
  BOOST_TEST(replies[0].json("updated_models") == R"(["z_by_sku","a_items"])");
  // The config's max_line_bytes applies: the padded event was skipped.
  BOOST_TEST(mentions_line(result.err, 2), result.err);
  BOOST_TEST(
    replies[1].body_text()
    == R"({"type": "query_ok", "in_reply_to": 3, "model": "z_by_sku", "key": "S1", "value": "item-1"})");
}

BOOST_AUTO_TEST_CASE(log_format_json_writes_one_object_per_stderr_line) {
  auto result = run_ok(init(1) + "not json\n" + init(2), {"--log-format=json"});
  BOOST_TEST(replies_of(result).size() == 2u);
  std::size_t lines = 0;
  bool skipped_reported = false;
  for (std::size_t at = 0; at < result.err.size();) {
    auto end = result.err.find('\n', at);
    BOOST_REQUIRE_MESSAGE(end != std::string::npos, result.err);
    auto v = boost::json::parse(result.err.substr(at, end - at));
    auto& o = v.as_object();
    BOOST_TEST(o.size() == 4u);
    for (auto key : {"time", "level", "source", "message"})
      BOOST_TEST(o.at(key).is_string(), key);
    if (o.at("message").as_string() == "line 2: not a JSON object, skipped") {
      skipped_reported = true;
      BOOST_TEST(o.at("level").as_string() == "warning");
      BOOST_TEST(o.at("source").as_string() == "bus-node");
    }
    ++lines;
    at = end + 1;
  }
  BOOST_TEST(lines >= 1u);
  BOOST_TEST(skipped_reported, result.err);
}

BOOST_AUTO_TEST_CASE(log_level_error_silences_the_warnings) {
  auto result = run_ok(init(1) + "not json\n" + init(2), {"--log-level", "error"});
  BOOST_TEST(replies_of(result).size() == 2u);
  BOOST_TEST(result.err.empty(), result.err);
}

BOOST_AUTO_TEST_SUITE_END()
