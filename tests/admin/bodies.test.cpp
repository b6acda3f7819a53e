#include "bus/admin/bodies.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include "bus/admin/status_render.hpp"

using namespace bus;
using namespace bus::admin;
using namespace bus::actors;

namespace {

projector_status model(std::string name, std::uint64_t checkpoint,
                       model_role role = model_role::live) {
  projector_status x;
  x.model = std::move(name);
  x.checkpoint = checkpoint;
  x.checkpoint_timestamp = static_cast<std::int64_t>(checkpoint) * 1'000'000'000;
  x.applied = checkpoint;
  x.role = role;
  return x;
}

bus_status head_at(std::uint64_t head) {
  bus_status x;
  x.head = head;
  x.head_timestamp = static_cast<std::int64_t>(head) * 1'000'000'000;
  return x;
}

event logged(std::uint64_t seq) {
  event e;
  e.seq = seq;
  e.id = "e-" + std::to_string(seq);
  e.type = "UserCreated";
  e.payload = {{"id", "u" + std::to_string(seq)}};
  e.timestamp = 1'764'600'000'123'456'789;
  return e;
}

} // namespace

BOOST_AUTO_TEST_SUITE(bodies)

BOOST_AUTO_TEST_CASE(status_is_the_protocols_status_plus_the_node_and_its_store) {
  std::vector<projector_status> xs{model("a", 10), model("b", 7),
                                   model("b", 3, model_role::shadow)};
  auto bus = head_at(10);
  auto body = render_status(node_kind::bus, bus, xs);
  std::string fields;
  render_status_fields(fields, bus, xs);
  BOOST_TEST(body == "{\"node\": \"bus\", \"store\": \"healthy\", " + fields + "}");
  auto v = boost::json::parse(body);
  BOOST_TEST(v.at("node").as_string() == "bus");
  BOOST_TEST(v.at("head").as_int64() == 10);
  auto& models = v.at("read_models").as_array();
  BOOST_REQUIRE_EQUAL(models.size(), 2u);
  BOOST_TEST(models[1].at("lag_events").as_int64() == 3);
  BOOST_TEST(models[1].at("lag_ms").as_int64() == 3000);
  BOOST_TEST(models[1].at("shadow").at("checkpoint").as_int64() == 3);
  BOOST_TEST(models[1].at("shadow").at("lag_events").as_int64() == 7);
  BOOST_TEST(boost::json::parse(render_status(node_kind::projector, bus, xs))
               .at("node")
               .as_string()
             == "projector");
}

BOOST_AUTO_TEST_CASE(a_bus_node_leading_by_lease_shows_its_lease) {
  std::vector<projector_status> xs{model("a", 10)};
  leadership lead;
  lead.lease = "bus";
  lead.holder = "bus-node 127.0.0.1:7000 (pid 12)";
  lead.token = 3;
  lead.ttl = std::chrono::milliseconds{5000};
  lead.why = "renewed the lease (token 3)";
  auto v = boost::json::parse(render_status(node_kind::bus, head_at(10), xs, lead));
  auto& lease = v.at("lease");
  BOOST_TEST(lease.at("state").as_string() == "leading");
  BOOST_TEST(lease.at("name").as_string() == "bus");
  BOOST_TEST(lease.at("holder").as_string() == "bus-node 127.0.0.1:7000 (pid 12)");
  BOOST_TEST(lease.at("token").as_int64() == 3);
  BOOST_TEST(lease.at("ttl_ms").as_int64() == 5000);
  BOOST_TEST(lease.at("why").as_string() == "renewed the lease (token 3)");
  // Without a lease (a SQLite store, memory): no such field.
  v = boost::json::parse(render_status(node_kind::bus, head_at(10), xs));
  BOOST_TEST(!v.as_object().contains("lease"));
}

BOOST_AUTO_TEST_CASE(the_head_is_never_below_a_checkpoint) {
  // The bus is asked before the models: under load a model has applied
  // events the bus's answer did not count yet. The status must not show a
  // checkpoint past the head.
  std::vector<projector_status> xs{model("a", 12), model("b", 7)};
  auto v = boost::json::parse(render_status(node_kind::bus, head_at(10), xs));
  BOOST_TEST(v.at("head").as_int64() == 12);
  auto& models = v.at("read_models").as_array();
  BOOST_TEST(models[0].at("lag_events").as_int64() == 0);
  BOOST_TEST(models[1].at("lag_events").as_int64() == 5);
}

BOOST_AUTO_TEST_CASE(an_events_page_says_where_the_next_one_starts) {
  auto page = boost::json::parse(
    render_events(5, 9, event_batch::of({logged(5), logged(6), logged(7)})));
  BOOST_TEST(page.at("from").as_int64() == 5);
  BOOST_TEST(page.at("head").as_int64() == 9);
  BOOST_TEST(page.at("next").as_int64() == 8);
  auto& events = page.at("events").as_array();
  BOOST_REQUIRE_EQUAL(events.size(), 3u);
  auto& first = events[0];
  BOOST_TEST(first.at("seq").as_int64() == 5);
  BOOST_TEST(first.at("type").as_string() == "UserCreated");
  BOOST_TEST(first.at("id").as_string() == "e-5");
  BOOST_TEST(first.at("timestamp_ms").as_int64() == 1'764'600'000'123);
  BOOST_TEST(first.at("payload").at("id").as_string() == "u5");
  BOOST_TEST(first.at("schema_version").as_int64() == 1);
  BOOST_TEST(!first.as_object().contains("metadata"));
  // At the end, or past it, nothing comes back and the next page is the
  // same: poll it again later.
  auto end = boost::json::parse(render_events(10, 9, event_batch{}));
  BOOST_TEST(end.at("next").as_int64() == 10);
  BOOST_TEST(end.at("events").as_array().empty());
}

BOOST_AUTO_TEST_CASE(an_events_page_stops_at_its_byte_cap_and_goes_on_from_there) {
  // 60 events of 900 KB, asked with limit=1000, made one answer of 54 MB.
  auto big = [](std::uint64_t seq, std::size_t bytes) {
    auto e = logged(seq);
    e.payload = {{"id", "u" + std::to_string(seq)}, {"data", std::string(bytes, 'x')}};
    return e;
  };
  std::vector<event> xs;
  for (std::uint64_t seq = 1; seq <= 10; ++seq)
    xs.push_back(big(seq, 300'000));
  auto text = render_events(1, 10, event_batch::of(xs));
  BOOST_TEST(text.size() <= max_events_page_bytes);
  auto page = boost::json::parse(text);
  BOOST_TEST(page.at("events").as_array().size() == 3u);
  BOOST_TEST(page.at("next").as_int64() == 4); // the first event left out
  BOOST_TEST(page.at("head").as_int64() == 10);
  // An event larger than the cap comes alone: every page moves on.
  auto alone = boost::json::parse(
    render_events(1, 2, event_batch::of({big(1, max_events_page_bytes), logged(2)})));
  BOOST_TEST(alone.at("events").as_array().size() == 1u);
  BOOST_TEST(alone.at("next").as_int64() == 2);
}

BOOST_AUTO_TEST_CASE(an_event_shows_the_schema_version_it_was_logged_with) {
  // The log keeps the original; upcasters change only what models see.
  auto e = logged(1);
  e.schema_version = 3;
  auto v = boost::json::parse(render_event(e));
  BOOST_TEST(v.at("schema_version").as_int64() == 3);
}

BOOST_AUTO_TEST_CASE(metadata_is_shown_when_an_event_has_some) {
  auto e = logged(1);
  e.metadata = {{"correlation", "c-1"}};
  auto v = boost::json::parse(render_event(e));
  BOOST_TEST(v.at("metadata").at("correlation").as_string() == "c-1");
}

BOOST_AUTO_TEST_CASE(parked_entries_are_the_protocols_led_by_their_seq) {
  parked_list xs;
  xs.model = "orders";
  xs.done = 2;
  xs.entries = boost::json::parse(
    R"([{"event": {"id": "e9", "type": "A", "payload": {}, "seq": 9}, "key": "k",
         "reason": "failed", "error": "boom", "attempts": 3, "parked_at": 17}])");
  auto listed = boost::json::parse(render_parked(xs, false));
  BOOST_TEST(listed.at("model").as_string() == "orders");
  BOOST_TEST(!listed.as_object().contains("done"));
  auto& entry = listed.at("parked").as_array().at(0);
  BOOST_TEST(entry.at("seq").as_int64() == 9);
  BOOST_TEST(entry.at("error").as_string() == "boom");
  BOOST_TEST(entry.at("event").at("id").as_string() == "e9");
  auto retried = boost::json::parse(render_parked(xs, true));
  BOOST_TEST(retried.at("done").as_int64() == 2);
}

BOOST_AUTO_TEST_CASE(a_lifecycle_answer_names_the_model_and_its_state) {
  auto s = model("orders", 3);
  s.state = model_state::paused;
  BOOST_TEST(render_lifecycle(s) == R"({"model": "orders", "state": "paused"})");
}

BOOST_AUTO_TEST_SUITE_END()
