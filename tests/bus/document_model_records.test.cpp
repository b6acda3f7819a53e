// document_model keeps its documents in record form: what it answers must
// be what a model of Boost.JSON objects answers, for every kind of value,
// field order and payload form.

#include "bus/document_model.hpp"

#include <map>
#include <random>
#include <string>
#include <vector>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/test/unit_test.hpp>

#include "bus/event_wire.hpp"
#include "bus/payload_writer.hpp"
#include "support/json_events.hpp"
#include "support/user_documents.hpp"

using namespace bus;
using bus::test::json;
using bus::test::query_text;
using bus::test::users_config;

namespace {

std::string written_json(const read_model& m, std::string_view key) {
  std::string out;
  return m.write_value(key, out) ? out : "<none>";
}

// `e` with its payload in record form, as a catch-up or bus-node hands it.
event in_record(event e) {
  e.seq = 1;
  auto batch = bus::decode_batch(bus::encode_events(&e, &e + 1));
  BOOST_REQUIRE(static_cast<bool>(batch));
  BOOST_REQUIRE(!(*batch)[0].payload.encoded_bytes().empty());
  return std::move((*batch)[0]);
}

// Values of every kind the record form holds, and strings the JSON text
// escapes.
boost::json::value random_value(std::mt19937& rng) {
  static const std::vector<boost::json::value> values = {
    boost::json::value(7),
    boost::json::value(-123456789),
    boost::json::value(18446744073709551615ull),
    boost::json::value(0.1),
    boost::json::value(-2.25),
    boost::json::value(1e300),
    boost::json::value(3.0),
    boost::json::value(true),
    boost::json::value(false),
    boost::json::value(nullptr),
    boost::json::value(""),
    boost::json::value("plain"),
    boost::json::value("with \"quotes\" and \\ and\ttab\n"),
    boost::json::value("\xc3\xbcnic\xc3\xb6"
                       "de \x01"),
    boost::json::value("a string longer than thirty-one bytes, on the heap"),
    // Longer than the text a row is assembled in on the stack.
    boost::json::value(std::string(700, 'x')),
    boost::json::value(std::string(1100, 'y')),
    json(R"([1, "x", {"k": null}])"),
    json(R"({"k": 1, "l": {"m": [2.5]}})"),
  };
  return values[std::uniform_int_distribution<std::size_t>{0, values.size() - 1}(rng)];
}

// A payload for `key` whose document is `doc` (null if none): a third of
// them with the document's fields in its order (the common update), a third
// with them in another order, the rest a random subset of fields (keys of
// equal length among them), now and then more than the model walks in place.
boost::json::object random_payload(std::mt19937& rng, const std::string& key,
                                   const boost::json::object* doc) {
  static const std::vector<std::string> names = {"a", "b", "c", "name", "mail", "age"};
  std::vector<std::string> fields;
  auto mode = doc == nullptr ? 2 : rng() % 3;
  if (mode < 2) {
    for (auto& kv : *doc)
      fields.emplace_back(kv.key());
    if (mode == 1)
      std::shuffle(fields.begin(), fields.end(), rng);
  } else {
    fields.push_back("id");
    for (auto& n : names)
      if (rng() % 2 == 0)
        fields.push_back(n);
    if (rng() % 20 == 0)
      for (int i = 0; i < 20; ++i)
        fields.push_back("f" + std::to_string(i));
    std::shuffle(fields.begin(), fields.end(), rng);
  }
  boost::json::object result;
  for (auto& f : fields)
    result[f] = f == "id" ? boost::json::value(key) : random_value(rng);
  return result;
}

} // namespace

BOOST_AUTO_TEST_SUITE(document_model_records)

BOOST_AUTO_TEST_CASE(answers_as_a_model_of_objects_does) {
  // The reference: a map of Boost.JSON objects, merged with operator[].
  std::mt19937 rng{20261205};
  bus::document_model m{users_config()};
  std::map<std::string, boost::json::object> expected;
  const std::vector<std::string> keys = {"u1", "u2", "u3", "u4"};
  for (int step = 0; step < 3000; ++step) {
    auto& key = keys[rng() % keys.size()];
    event e;
    e.id = "e" + std::to_string(step);
    auto known = expected.find(key);
    auto payload = random_payload(rng, key,
                                  known == expected.end() ? nullptr : &known->second);
    switch (rng() % 6) {
      case 0:
        e.type = "UserReplaced";
        expected[key] = payload;
        break;
      case 1:
        e.type = "UserDeleted";
        expected.erase(key);
        break;
      default:
        e.type = "UserUpdated";
        if (auto i = expected.find(key); i == expected.end())
          expected[key] = payload;
        else
          for (auto& kv : payload)
            i->second[kv.key()] = kv.value();
    }
    e.payload = std::move(payload);
    auto recorded = rng() % 2 == 0;
    BOOST_TEST_CONTEXT("step " << step << ", " << e.type << " of " << key
                               << (recorded ? " as a record" : "")) {
      BOOST_REQUIRE(m.apply(recorded ? in_record(std::move(e)) : std::move(e)));
      auto i = expected.find(key);
      auto text = i == expected.end() ? "<none>" : boost::json::serialize(i->second);
      BOOST_REQUIRE_EQUAL(query_text(m, key), text);
      BOOST_REQUIRE_EQUAL(written_json(m, key), text);
    }
  }
  // A snapshot restored into a fresh model answers the same.
  bus::document_model restored{users_config()};
  BOOST_REQUIRE(restored.restore(m.snapshot()));
  for (auto& key : keys)
    BOOST_TEST(written_json(restored, key) == written_json(m, key));
}

BOOST_AUTO_TEST_CASE(a_key_held_twice_by_a_record_counts_once_with_its_first_value) {
  // Only a peer's record can hold a key twice (JSON input cannot reach the
  // record form so); its decoded object keeps the first value.
  payload_writer w;
  w.reset();
  w.begin_object(4);
  w.key("id");
  w.string("u1");
  w.key("name");
  w.string("first");
  w.key("name");
  w.string("second");
  w.key("tags");
  w.begin_object(2);
  w.key("x");
  w.int64(1);
  w.key("x");
  w.int64(2);
  BOOST_REQUIRE(w.complete());
  auto bytes = std::string{w.written()};
  for (auto type : {"UserReplaced", "UserUpdated"}) {
    BOOST_TEST_CONTEXT(type) {
      bus::document_model m{users_config()};
      if (std::string_view{type} == "UserUpdated")
        m.apply(bus::test::make_event("UserUpdated", R"({"name": "old", "id": "u1"})"));
      event e;
      e.id = "e1";
      e.type = type;
      e.payload = event_payload::encoded(bytes);
      m.apply(e);
      auto want = std::string_view{type} == "UserUpdated"
                    ? R"({"name":"first","id":"u1","tags":{"x":1}})"
                    : R"({"id":"u1","name":"first","tags":{"x":1}})";
      BOOST_TEST(query_text(m, "u1") == want);
      BOOST_TEST(written_json(m, "u1") == want);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_document_grows_and_shrinks_with_its_values) {
  // A document's buffer is reused when the new bytes fit, replaced when
  // they do not: no stale bytes either way.
  bus::document_model m{users_config()};
  std::string name;
  for (int i = 0; i < 200; ++i) {
    name = std::string(static_cast<std::size_t>((i * 37) % 150), 'n');
    auto payload = R"({"id": "u1", "name": ")" + name + R"("})";
    m.apply(in_record(bus::test::make_event("UserUpdated", payload)));
    BOOST_REQUIRE_EQUAL(written_json(m, "u1"),
                        R"({"id":"u1","name":")" + name + R"("})");
  }
}

BOOST_AUTO_TEST_CASE(a_state_holding_a_nan_is_refused_and_infinities_restore) {
  // Found by the snapshot_text fuzzer: Boost.JSON 1.81 reads -0e9991 as
  // NaN, which no snapshot of ours holds (the node refuses such numbers at
  // its input) and which no longer equals itself after a save. A refused
  // restore makes the projector rebuild from the log.
  for (auto* number : {"-0e9991", "0e999"}) {
    bus::document_model m{users_config()};
    auto state = boost::json::parse(std::string{R"({"user-1": {"id": "user-1", "n": [)"}
                                    + number + R"(, {"a": null}]}})");
    BOOST_TEST(!m.restore(state), number);
    BOOST_TEST(m.snapshot().as_object().empty());
  }
  // Infinities and negative zero are written and read back alike.
  bus::document_model m{users_config()};
  auto state = boost::json::parse(
    R"({"user-1": {"n": [-0e308, 1e308, 1e999, -1e999]}})");
  BOOST_REQUIRE(m.restore(state));
  bus::document_model again{users_config()};
  BOOST_REQUIRE(again.restore(m.snapshot()));
  BOOST_TEST((again.snapshot() == state));
}

BOOST_AUTO_TEST_SUITE_END()
