#include "bus/event_codec.hpp"

#include "bus/errc.hpp"
#include "bus/payload_writer.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include "support/json_events.hpp"

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

using namespace bus;
using bus::test::json;
using bus::test::make_event;

namespace {

event full_event() {
  event e;
  e.id = "evt-1";
  e.type = "UserCreated";
  e.payload = json(R"({"id": "user-1", "tags": ["a", "b"],
                       "address": {"city": "Oslo"}, "age": 30, "ok": true,
                       "score": 1.5, "none": null})")
                .as_object();
  e.seq = 42;
  e.timestamp = 1'700'000'000'123'456'789;
  e.schema_version = 3;
  e.metadata = json(R"({"correlation_id": "c-1"})").as_object();
  return e;
}

/// Checks that decoding `text` fails with invalid_event naming `field`.
void check_rejected(std::string_view text, const std::string& field) {
  BOOST_TEST_CONTEXT("event " << text) {
    auto result = event_from_json(json(text));
    BOOST_REQUIRE(!result);
    BOOST_TEST(code_of(result.error()) == errc::invalid_event);
    auto context = context_of(result.error());
    BOOST_TEST_INFO("context: " << context);
    auto where = "event." + field + ":";
    BOOST_TEST(context.compare(0, where.size(), where) == 0);
  }
}

} // namespace

BOOST_AUTO_TEST_SUITE(event_codec)

BOOST_AUTO_TEST_CASE(event_survives_a_round_trip_through_text) {
  auto original = full_event();
  auto text = boost::json::serialize(to_json(original));
  auto decoded = event_from_json(json(text));
  BOOST_REQUIRE(decoded);
  BOOST_TEST(decoded->id == original.id);
  BOOST_TEST(decoded->type == original.type);
  BOOST_TEST(decoded->payload == original.payload);
  BOOST_TEST(decoded->seq == original.seq);
  BOOST_TEST(decoded->timestamp == original.timestamp);
  BOOST_TEST(decoded->schema_version == original.schema_version);
  BOOST_TEST(decoded->metadata == original.metadata);
}

BOOST_AUTO_TEST_CASE(extreme_numbers_survive_a_round_trip) {
  auto original = full_event();
  original.seq = std::numeric_limits<std::uint64_t>::max();
  original.timestamp = std::numeric_limits<std::int64_t>::min();
  original.schema_version = std::numeric_limits<std::uint32_t>::max();
  auto decoded = event_from_json(json(boost::json::serialize(to_json(original))));
  BOOST_REQUIRE(decoded);
  BOOST_TEST(decoded->seq == original.seq);
  BOOST_TEST(decoded->timestamp == original.timestamp);
  BOOST_TEST(decoded->schema_version == original.schema_version);
}

BOOST_AUTO_TEST_CASE(to_json_writes_the_wire_form) {
  auto obj = to_json(full_event());
  BOOST_TEST(obj.at("id") == json(R"("evt-1")"));
  BOOST_TEST(obj.at("type") == json(R"("UserCreated")"));
  BOOST_TEST(obj.at("payload") == boost::json::value(full_event().payload));
  BOOST_TEST(obj.at("seq") == json("42"));
  BOOST_TEST(obj.at("timestamp") == json("1700000000123456789"));
  BOOST_TEST(obj.at("schema_version") == json("3"));
  BOOST_TEST(obj.at("metadata") == json(R"({"correlation_id": "c-1"})"));
  BOOST_TEST(obj.size() == 7u);
}

BOOST_AUTO_TEST_CASE(to_json_leaves_out_empty_metadata) {
  auto e = full_event();
  e.metadata.clear();
  auto obj = to_json(e);
  BOOST_TEST(!obj.contains("metadata"));
  BOOST_TEST(obj.size() == 6u);
}

BOOST_AUTO_TEST_CASE(only_type_and_payload_are_required) {
  auto decoded = event_from_json(json(R"({"type": "A", "payload": {}})"));
  BOOST_REQUIRE(decoded);
  BOOST_TEST(decoded->type == "A");
  BOOST_TEST(decoded->payload.empty());
  BOOST_TEST(decoded->id.empty());
  BOOST_TEST(decoded->seq == 0u);
  BOOST_TEST(decoded->timestamp == 0);
  BOOST_TEST(decoded->schema_version == 1u);
  BOOST_TEST(decoded->metadata.empty());
  BOOST_TEST(!decoded->id_derived);
}

BOOST_AUTO_TEST_CASE(unknown_fields_are_ignored) {
  auto decoded = event_from_json(
    json(R"({"type": "A", "payload": {"x": 1}, "extra": [1, 2]})"));
  BOOST_REQUIRE(decoded);
  BOOST_TEST(decoded->payload == json(R"({"x": 1})").as_object());
}

BOOST_AUTO_TEST_CASE(value_that_is_not_an_object_is_rejected) {
  for (auto text : {"[]", "null", "1", R"("event")", "true"}) {
    auto result = event_from_json(json(text));
    BOOST_REQUIRE(!result);
    BOOST_TEST(code_of(result.error()) == errc::invalid_event);
    BOOST_TEST(context_of(result.error()) == "event: expected an object");
  }
}

BOOST_AUTO_TEST_CASE(numbers_that_are_not_finite_are_rejected) {
  // 1e999 is JSON text that parses as infinity, which no JSON text can
  // carry: a parked event holding one was written back as "Infinity" and
  // could not be read again (found by the snapshot_text fuzz target).
  check_rejected(R"({"type": "A", "payload": {"n": 1e999}})", "payload");
  check_rejected(R"({"type": "A", "payload": {"a": [[{"n": -1e400}]]}})", "payload");
  check_rejected(R"({"type": "A", "payload": {}, "metadata": {"m": 1e9991}})",
                 "metadata");
  BOOST_TEST(static_cast<bool>(event_from_json(json(
    R"({"type": "A", "payload": {"n": 1.7976931348623157e308, "tiny": 1e-999}})"))));
  BOOST_TEST(finite_json(json(R"({"a": [1, -2.5, "Infinity", null]})")));
  BOOST_TEST(!finite_json(json(R"([0, [1e999]])")));
}

BOOST_AUTO_TEST_CASE(finite_event_looks_at_both_forms_of_a_payload_and_the_metadata) {
  auto nan = std::numeric_limits<double>::quiet_NaN();
  auto inf = std::numeric_limits<double>::infinity();
  auto with_payload = [](event_payload p) {
    event e;
    e.id = "e1";
    e.type = "A";
    e.payload = std::move(p);
    return e;
  };
  // An object, as C++ code builds it.
  auto e = with_payload(boost::json::object{{"n", 1.5}, {"s", "x"}});
  BOOST_TEST(finite_event(e));
  e.payload["deep"] = boost::json::array{1, boost::json::object{{"x", nan}}};
  BOOST_TEST(!finite_event(e));
  // A record, as payload_writer writes it (and a peer's batch arrives).
  payload_writer w;
  auto record = [&](double x) {
    w.reset();
    w.begin_object(2);
    w.key("ok");
    w.number(2.5);
    w.key("list");
    w.begin_array(2);
    w.string("a");
    w.number(x);
    return std::string{w.written()};
  };
  auto finite_bytes = record(-0.0);
  auto infinite_bytes = record(-inf);
  BOOST_TEST(finite_event(with_payload(event_payload::encoded(finite_bytes))));
  auto encoded = with_payload(event_payload::encoded(infinite_bytes));
  BOOST_TEST(!finite_event(encoded));
  BOOST_TEST(!encoded.payload.decoded()); // walked in its record
  // The metadata.
  auto m = with_payload(boost::json::object{});
  m.metadata["at"] = inf;
  BOOST_TEST(!finite_event(m));
}

BOOST_AUTO_TEST_CASE(
  a_writer_that_saw_every_number_vouches_for_its_payload_until_it_changes) {
  // bus-node's parser writes each payload with a payload_writer and says
  // what it saw (payload_numbers): a payload it vouches for is not walked
  // again; one holding NaN or an infinity is not vouched for, and the
  // check still refuses it; a changed, assigned or copied payload is
  // checked again.
  auto inf = std::numeric_limits<double>::infinity();
  payload_writer w;
  auto encoded = [&](double x) {
    w.reset();
    w.begin_object(1);
    w.key("x");
    w.number(x);
    auto numbers = w.finite_numbers() ? payload_numbers::finite
                                      : payload_numbers::unchecked;
    auto bytes = std::make_shared<std::string>(w.written());
    event e;
    e.id = "e1";
    e.type = "A";
    e.payload = event_payload::encoded(*bytes, {}, numbers);
    return std::make_pair(std::move(e), bytes);
  };
  auto [good, good_bytes] = encoded(1.5);
  BOOST_TEST((good.payload.numbers() == payload_numbers::finite));
  BOOST_TEST(finite_event(good));
  auto [bad, bad_bytes] = encoded(-inf);
  BOOST_TEST((bad.payload.numbers() == payload_numbers::unchecked));
  BOOST_TEST(!finite_event(bad));
  // A reset writer vouches again.
  auto [again, again_bytes] = encoded(2.0);
  BOOST_TEST((again.payload.numbers() == payload_numbers::finite));
  // Moved: still vouched for.
  event moved = std::move(good);
  BOOST_TEST((moved.payload.numbers() == payload_numbers::finite));
  // Copied: the copy is an object of its own, checked again.
  event copied = moved;
  BOOST_TEST((copied.payload.numbers() == payload_numbers::unchecked));
  BOOST_TEST(finite_event(copied));
  // Changed by its owner: an infinity written in is found.
  moved.payload["y"] = inf;
  BOOST_TEST((moved.payload.numbers() == payload_numbers::unchecked));
  BOOST_TEST(!finite_event(moved));
  // Assigned an object, or made another record: checked again.
  again.payload = boost::json::object{{"z", inf}};
  BOOST_TEST(!finite_event(again));
  auto [last, last_bytes] = encoded(3.0);
  last.payload.assign_encoded(*bad_bytes);
  BOOST_TEST(!finite_event(last));
}

BOOST_AUTO_TEST_CASE(bad_type_is_rejected) {
  check_rejected(R"({"payload": {}})", "type");
  check_rejected(R"({"type": "", "payload": {}})", "type");
  check_rejected(R"({"type": 1, "payload": {}})", "type");
  check_rejected(R"({"type": null, "payload": {}})", "type");
}

BOOST_AUTO_TEST_CASE(bad_payload_is_rejected) {
  check_rejected(R"({"type": "A"})", "payload");
  check_rejected(R"({"type": "A", "payload": []})", "payload");
  check_rejected(R"({"type": "A", "payload": "x"})", "payload");
  check_rejected(R"({"type": "A", "payload": null})", "payload");
}

BOOST_AUTO_TEST_CASE(bad_id_is_rejected) {
  check_rejected(R"({"type": "A", "payload": {}, "id": ""})", "id");
  check_rejected(R"({"type": "A", "payload": {}, "id": 12})", "id");
  check_rejected(R"({"type": "A", "payload": {}, "id": null})", "id");
}

BOOST_AUTO_TEST_CASE(bad_seq_is_rejected) {
  check_rejected(R"({"type": "A", "payload": {}, "seq": -1})", "seq");
  check_rejected(R"({"type": "A", "payload": {}, "seq": 1.5})", "seq");
  check_rejected(R"({"type": "A", "payload": {}, "seq": 2.0})", "seq");
  check_rejected(R"({"type": "A", "payload": {}, "seq": 1e300})", "seq");
  check_rejected(R"({"type": "A", "payload": {}, "seq": "1"})", "seq");
  check_rejected(R"({"type": "A", "payload": {}, "seq": true})", "seq");
  check_rejected(R"({"type": "A", "payload": {}, "seq": null})", "seq");
}

BOOST_AUTO_TEST_CASE(bad_timestamp_is_rejected) {
  check_rejected(R"({"type": "A", "payload": {}, "timestamp": 1.5})", "timestamp");
  check_rejected(R"({"type": "A", "payload": {}, "timestamp": 9223372036854775808})",
                 "timestamp");
  check_rejected(R"({"type": "A", "payload": {}, "timestamp": "now"})", "timestamp");
  check_rejected(R"({"type": "A", "payload": {}, "timestamp": []})", "timestamp");
}

BOOST_AUTO_TEST_CASE(bad_schema_version_is_rejected) {
  check_rejected(R"({"type": "A", "payload": {}, "schema_version": 4294967296})",
                 "schema_version");
  check_rejected(R"({"type": "A", "payload": {}, "schema_version": -1})",
                 "schema_version");
  check_rejected(R"({"type": "A", "payload": {}, "schema_version": 1.0})",
                 "schema_version");
  check_rejected(R"({"type": "A", "payload": {}, "schema_version": {}})",
                 "schema_version");
}

BOOST_AUTO_TEST_CASE(bad_metadata_is_rejected) {
  check_rejected(R"({"type": "A", "payload": {}, "metadata": []})", "metadata");
  check_rejected(R"({"type": "A", "payload": {}, "metadata": "c-1"})", "metadata");
  check_rejected(R"({"type": "A", "payload": {}, "metadata": null})", "metadata");
}

BOOST_AUTO_TEST_CASE(hostile_values_in_any_field_fail_cleanly) {
  // Every field set to every kind of value, including numbers at and past
  // the limits: decoding never throws, and a rejection names that field.
  const std::vector<std::string> fields{"id",        "type",           "payload", "seq",
                                        "timestamp", "schema_version", "metadata"};
  std::vector<boost::json::value> values;
  values.emplace_back(nullptr);
  values.emplace_back(true);
  values.emplace_back(false);
  values.emplace_back(0);
  values.emplace_back(-1);
  values.emplace_back(std::numeric_limits<std::int64_t>::min());
  values.emplace_back(std::numeric_limits<std::int64_t>::max());
  values.emplace_back(std::numeric_limits<std::uint64_t>::max());
  values.emplace_back(0.0);
  values.emplace_back(-0.0);
  values.emplace_back(1.5);
  values.emplace_back(1e300);
  values.emplace_back(-1e300);
  values.emplace_back(std::numeric_limits<double>::infinity());
  values.emplace_back(std::numeric_limits<double>::quiet_NaN());
  values.emplace_back("");
  values.emplace_back("x");
  values.emplace_back(boost::json::string(100'000, 'x'));
  values.emplace_back(boost::json::array{});
  values.emplace_back(boost::json::array{1, 2});
  values.emplace_back(boost::json::object{});
  values.push_back(json(R"({"a": {"b": [1, {"c": null}]}})"));
  for (auto& field : fields) {
    for (auto& value : values) {
      auto obj = to_json(full_event());
      obj[field] = value;
      BOOST_TEST_CONTEXT("field " << field << " = "
                                  << boost::json::serialize(value).substr(0, 40)) {
        caf::expected<event> result{event{}};
        BOOST_CHECK_NO_THROW(result = event_from_json(obj));
        if (!result) {
          BOOST_TEST(code_of(result.error()) == errc::invalid_event);
          auto where = "event." + field + ":";
          BOOST_TEST(context_of(result.error()).compare(0, where.size(), where) == 0);
        }
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(numbers_in_range_are_accepted_whatever_their_json_kind) {
  // A uint64 that fits int64 and an int64 that fits uint64 are both fine.
  boost::json::object obj{{"type", "A"}, {"payload", boost::json::object{}}};
  obj["seq"] = std::int64_t{7};
  obj["timestamp"] = std::uint64_t{8};
  obj["schema_version"] = std::uint64_t{2};
  auto decoded = event_from_json(obj);
  BOOST_REQUIRE(decoded);
  BOOST_TEST(decoded->seq == 7u);
  BOOST_TEST(decoded->timestamp == 8);
  BOOST_TEST(decoded->schema_version == 2u);
}

BOOST_AUTO_TEST_SUITE_END()
