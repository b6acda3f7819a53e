// Event versions through the node: an event's schema_version and metadata
// are read from the line and kept in the log; the configuration's
// upcasters turn old versions into the current one before the read models
// see them; the log keeps what was sent.

#include <boost/test/unit_test.hpp>

#include <string>
#include <utility>
#include <vector>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "node_process.hpp"
#include "node_protocol.hpp"
#include "protocol.hpp"
#include "user_stream.hpp"

using namespace bus::node::test;
using bus::node::error_code;
using bus::node::request_kind;

namespace {

// UserCreated v1 sent "mail"; v2 sends "email" and always a "country".
constexpr const char* upcasting_config = R"({
  "read_models": [
    {"name": "user_listing", "kind": "document", "key": "id",
     "merge_on": ["UserCreated"]},
    {"name": "user_by_email", "kind": "index", "key": "email", "target": "id",
     "set_on": ["UserCreated"]},
    {"name": "strict", "kind": "document", "key": "id", "require": ["email"],
     "merge_on": ["UserCreated"], "on_error": {"attempts": 1, "then": "park"}}
  ],
  "upcasters": [
    {"type": "UserCreated", "from": 1, "rename": {"mail": "email"},
     "defaults": {"country": "unknown"}}
  ]
})";

// The listing alone, no upcasters.
constexpr const char* plain_config = R"({
  "read_models": [
    {"name": "user_listing", "kind": "document", "key": "id",
     "merge_on": ["UserCreated"]}
  ]
})";

// A snapshot model and a table model of UserCreated, under the upcasters
// `upcasters` (a JSON array).
std::string restart_config(std::string_view upcasters) {
  return R"({"read_models": [
    {"name": "user_listing", "kind": "document", "key": "id",
     "merge_on": ["UserCreated"]},
    {"name": "user_table", "kind": "document", "key": "id",
     "merge_on": ["UserCreated"], "storage": "sqlite"}],
  "upcasters": )"
         + std::string{upcasters} + "}";
}

// `fields` may span lines in the source: one request is one line.
std::string versioned_event(long long msg_id, std::string_view text) {
  std::string fields{text};
  for (auto& c : fields)
    if (c == '\n')
      c = ' ';
  return request(R"({"type": "event", "msg_id": )" + std::to_string(msg_id)
                 + R"(, "event": {"type": "UserCreated", )" + fields + "}}");
}

bus::node::request parsed(const std::string& event_fields) {
  auto line = boost::json::parse(
    R"({"src": "c", "dest": "n", "body": {"type": "event", "msg_id": 1, "event": {"type": "A", "payload": {"id": "x-1"})"
    + event_fields + "}}}");
  bus::node::request req{
    boost::json::make_shared_resource<boost::json::monotonic_resource>()};
  bus::node::parse_request(line.as_object(), req);
  return req;
}

} // namespace

BOOST_AUTO_TEST_SUITE(versioning)

BOOST_AUTO_TEST_CASE(an_event_keeps_its_schema_version_and_metadata) {
  auto req = parsed(R"(, "schema_version": 3, "metadata": {"correlation_id": "c-9"})");
  BOOST_REQUIRE((req.kind == request_kind::event));
  BOOST_TEST(req.ev.schema_version == 3u);
  BOOST_TEST(boost::json::serialize(req.ev.metadata) == R"({"correlation_id":"c-9"})");
  auto plain = parsed("");
  BOOST_REQUIRE((plain.kind == request_kind::event));
  BOOST_TEST(plain.ev.schema_version == 1u);
  BOOST_TEST(plain.ev.metadata.empty());
}

BOOST_AUTO_TEST_CASE(bad_schema_version_or_metadata_is_a_malformed_request) {
  std::vector<std::pair<std::string, std::string>> cases{
    {R"(, "schema_version": 0)", "event.schema_version"},
    {R"(, "schema_version": -1)", "event.schema_version"},
    {R"(, "schema_version": "2")", "event.schema_version"},
    {R"(, "schema_version": 1.5)", "event.schema_version"},
    {R"(, "schema_version": 4294967296)", "event.schema_version"},
    {R"(, "schema_version": null)", "event.schema_version"},
    {R"(, "metadata": [])", "event.metadata"},
    {R"(, "metadata": "x")", "event.metadata"},
    {R"(, "metadata": {"n": 1e999})", "event.metadata"},
  };
  for (auto& [fields, named] : cases) {
    BOOST_TEST_CONTEXT(fields) {
      auto req = parsed(fields);
      BOOST_TEST((req.kind == request_kind::error));
      BOOST_TEST((req.code == error_code::malformed_request));
      BOOST_TEST(req.text.find(named) == 0u, req.text);
    }
  }
}

BOOST_AUTO_TEST_CASE(declarative_upcaster_applies_and_the_log_keeps_the_original) {
  scratch_dir dir;
  auto config = dir.write("upcasting.json", upcasting_config);
  std::vector<std::string> args{"--config", config, "--store", dir.store()};
  auto replies = replies_to(
    versioned_event(1,
                    R"("id": "e-1", "schema_version": 1, "metadata": {"trace": "t-1"},
                          "payload": {"id": "user-1", "mail": "a@x"})")
      + versioned_event(2, R"("id": "e-2", "payload": {"id": "user-2", "mail": "b@x"})")
      + versioned_event(3, R"("id": "e-3", "schema_version": 2,
                              "payload": {"id": "user-3", "email": "c@x", "country": "NO"})")
      + versioned_event(
        4, R"("id": "e-4", "schema_version": 2, "metadata": {"trace": "t-4"},
                              "payload": {"id": "user-4"})")
      + query(5, "user_listing", "user-1") + query(6, "user_listing", "user-2")
      + query(7, "user_listing", "user-3") + query(8, "user_by_email", "a@x")
      + request(R"({"type": "parked", "msg_id": 9, "model": "strict"})"),
    args);
  BOOST_REQUIRE_EQUAL(replies.size(), 9u);
  for (std::size_t i = 0; i < 4; ++i)
    BOOST_TEST(replies[i].text("type") == "read_models_updated", replies[i].line);
  // Upcast: v1 (said or by default) renamed and defaulted; v2 as sent.
  BOOST_TEST(replies[4].body.at("value")
               == boost::json::parse(
                 R"({"id": "user-1", "email": "a@x", "country": "unknown"})"),
             replies[4].line);
  BOOST_TEST(replies[5].body.at("value")
               == boost::json::parse(
                 R"({"id": "user-2", "email": "b@x", "country": "unknown"})"),
             replies[5].line);
  BOOST_TEST(
    replies[6].body.at("value")
      == boost::json::parse(R"({"id": "user-3", "email": "c@x", "country": "NO"})"),
    replies[6].line);
  BOOST_TEST(replies[7].json("value") == R"("user-1")", replies[7].line);
  // The parked v2 event is the one logged: its version and metadata kept.
  BOOST_REQUIRE(replies[8].text("type") == "parked_ok");
  auto& parked = replies[8].body.at("parked").as_array();
  BOOST_REQUIRE_EQUAL(parked.size(), 1u);
  auto& logged = parked[0].at("event").as_object();
  BOOST_TEST(logged.at("id") == "e-4");
  BOOST_TEST(logged.at("schema_version") == 2);
  BOOST_TEST(logged.at("metadata") == boost::json::parse(R"({"trace": "t-4"})"));

  // Restarted without the upcaster, a rebuild replays the log as it was
  // sent: the v1 events hold "mail" again.
  auto plain = dir.write("plain.json", plain_config);
  auto again = replies_to(
    request(R"({"type": "rebuild", "msg_id": 1, "model": "user_listing"})")
      + versioned_event(2,
                        R"("id": "e-5", "payload": {"id": "user-5", "email": "e@x"})")
      + query(3, "user_listing", "user-1") + query(4, "user_listing", "user-3"),
    {"--config", plain, "--store", dir.store()});
  BOOST_REQUIRE_EQUAL(again.size(), 4u);
  BOOST_TEST(again[1].text("type") == "read_models_updated", again[1].line);
  BOOST_TEST(again[2].body.at("value")
               == boost::json::parse(R"({"id": "user-1", "mail": "a@x"})"),
             again[2].line);
  BOOST_TEST(
    again[3].body.at("value")
      == boost::json::parse(R"({"id": "user-3", "email": "c@x", "country": "NO"})"),
    again[3].line);
}

// The models' stored state was folded under the old upcasters: kept, it
// would mix shapes that no single configuration produces.
BOOST_AUTO_TEST_CASE(restart_with_changed_upcasters_rebuilds_the_models_they_feed) {
  scratch_dir dir;
  auto before = dir.write(
    "before.json",
    restart_config(
      R"([{"type": "UserCreated", "from": 1, "rename": {"mail": "email"}}])"));
  auto after = dir.write("after.json", restart_config(R"([{"type": "UserCreated",
    "from": 1, "rename": {"mail": "contact"}, "defaults": {"tier": "gold"}}])"));
  auto first = replies_to(
    versioned_event(1, R"("id": "e-1", "payload": {"id": "user-1", "mail": "a@x"})"),
    {"--config", before, "--store", dir.store()});
  BOOST_REQUIRE_EQUAL(first.size(), 1u);
  BOOST_TEST(first[0].text("type") == "read_models_updated", first[0].line);
  auto second = replies_to(
    versioned_event(1, R"("id": "e-2", "payload": {"id": "user-2", "mail": "b@x"})")
      + query(2, "user_listing", "user-1") + query(3, "user_table", "user-1")
      + query(4, "user_listing", "user-2") + query(5, "user_table", "user-2"),
    {"--config", after, "--store", dir.store()});
  BOOST_REQUIRE_EQUAL(second.size(), 5u);
  // Both events as the new upcasters make them, the one from before the
  // restart too.
  auto user = [](const char* id, const char* mail) {
    return boost::json::parse(std::string{R"({"id": ")"} + id + R"(", "contact": ")"
                              + mail + R"(", "tier": "gold"})");
  };
  BOOST_TEST(second[1].body.at("value") == user("user-1", "a@x"), second[1].line);
  BOOST_TEST(second[2].body.at("value") == user("user-1", "a@x"), second[2].line);
  BOOST_TEST(second[3].body.at("value") == user("user-2", "b@x"), second[3].line);
  BOOST_TEST(second[4].body.at("value") == user("user-2", "b@x"), second[4].line);
}

// Each model upcasts on its own thread, copying the event: over a long run
// their copies of the same events meet. They once took memory from the
// input chunk's shared arena at the same time, and the node crashed within
// a few ten thousand events.
BOOST_AUTO_TEST_CASE(a_long_run_of_upcast_events_reaches_every_model) {
  scratch_dir dir;
  auto config = dir.write("upcasting.json", upcasting_config);
  constexpr long long n = 60000;
  std::string input;
  for (long long i = 1; i <= n; ++i) {
    auto x = std::to_string(i);
    input += versioned_event(i, R"("id": "e-)" + x + R"(", "payload": {"id": "user-)"
                                  + x + R"(", "mail": "user-)" + x
                                  + R"(@example.org"})");
  }
  input += query(n + 1, "user_listing", "user-" + std::to_string(n))
           + query(n + 2, "user_by_email", "user-1@example.org");
  auto result = run_node(input, {"--config", config});
  BOOST_REQUIRE_MESSAGE(result.exit_code == 0,
                        "exit " << result.exit_code << ", signal " << result.term_signal
                                << ": " << result.err.substr(0, 2000));
  auto replies = replies_of(result);
  BOOST_REQUIRE_EQUAL(replies.size(), static_cast<std::size_t>(n + 2));
  std::size_t not_applied = 0;
  for (long long i = 0; i < n; ++i)
    if (replies[static_cast<std::size_t>(i)].text("type") != "read_models_updated")
      ++not_applied;
  BOOST_TEST(not_applied == 0u);
  BOOST_TEST(replies[n].body.at("value")
               == boost::json::parse(
                 R"({"id": "user-60000", "email": )"
                 R"("user-60000@example.org", "country": "unknown"})"),
             replies[n].line);
  BOOST_TEST(replies[n + 1].json("value") == R"("user-1")", replies[n + 1].line);
}

BOOST_AUTO_TEST_CASE(bad_upcasters_in_the_config_exit_2_naming_the_field) {
  scratch_dir dir;
  auto config = dir.write("bad.json", R"({"read_models": [],
    "upcasters": [{"type": "UserCreated", "from": 1, "rename": {"mail": 5}}]})");
  auto result = run_node(request(R"({"type": "status", "msg_id": 1})"),
                         {"--config", config});
  BOOST_TEST(result.exit_code == 2);
  BOOST_TEST(result.err.find("upcasters[0].rename.mail") != std::string::npos,
             result.err);
  BOOST_TEST(result.out.empty(), result.out);
}

BOOST_AUTO_TEST_SUITE_END()
