// A payload written value by value (bus/payload_writer.hpp) is the record
// the log would have written for the same object, reads back as that
// object, keeps the memory it lies in alive wherever it is moved, and is
// merged into a document without being decoded.

#include "bus/payload_writer.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "bus/document_model.hpp"
#include "bus/event.hpp"
#include "bus/event_payload.hpp"
#include "internal/event_record.hpp"

using namespace bus;

namespace {

// {"id": "user-1", "n": -5, "u": 18446744073709551615, "d": 1.5, "b": true,
//  "z": null, "a": [1, "x", {"k": []}], "o": {"p": {}}}
void write_sample(payload_writer& w) {
  w.begin_object(8);
  w.key("id");
  w.string("user-1");
  w.key("n");
  w.int64(-5);
  w.key("u");
  w.uint64(18446744073709551615ull);
  w.key("d");
  w.number(1.5);
  w.key("b");
  w.boolean(true);
  w.key("z");
  w.null();
  w.key("a");
  w.begin_array(3);
  w.int64(1);
  w.string("x");
  w.begin_object(1);
  w.key("k");
  w.begin_array(0);
  w.key("o");
  w.begin_object(1);
  w.key("p");
  w.begin_object(0);
}

const char* sample_json = R"({"id": "user-1", "n": -5, "u": 18446744073709551615,
  "d": 1.5, "b": true, "z": null, "a": [1, "x", {"k": []}], "o": {"p": {}}})";

event event_of(event_payload payload) {
  event e;
  e.id = "e1";
  e.type = "A";
  e.payload = std::move(payload);
  return e;
}

// A resource that says when it is gone.
struct watched_resource : boost::json::memory_resource {
  explicit watched_resource(bool& flag) : gone(flag) {}
  ~watched_resource() override { gone = true; }
  void* do_allocate(std::size_t n, std::size_t align) override {
    return upstream.allocate(n, align);
  }
  void do_deallocate(void*, std::size_t, std::size_t) override {}
  bool do_is_equal(const memory_resource& other) const noexcept override {
    return this == &other;
  }
  bool& gone;
  boost::json::monotonic_resource upstream;
};

} // namespace

BOOST_AUTO_TEST_SUITE(payload_writer_suite)

BOOST_AUTO_TEST_CASE(a_written_payload_is_the_record_of_the_same_object) {
  payload_writer w;
  write_sample(w);
  BOOST_TEST(w.complete());
  std::string bytes{w.written()};
  // Reset, it writes the next payload from the start.
  w.reset();
  write_sample(w);
  BOOST_TEST(w.complete());
  BOOST_TEST(w.written() == bytes);
  auto expected = boost::json::parse(sample_json).as_object();
  auto written = event_payload::encoded(bytes);
  BOOST_TEST(written.object() == expected);
  BOOST_TEST(written.field("id").as_string() == "user-1");
  BOOST_TEST(written.field("n").as_int64() == -5);
  BOOST_TEST(written.field("d").as_double() == 1.5);
  // Byte for byte what the log writes for that object.
  std::string from_object;
  std::string from_bytes;
  internal::encode_event(event_of(event_payload{expected}), from_object);
  internal::encode_event(event_of(event_payload::encoded(bytes)), from_bytes);
  BOOST_TEST(from_object == from_bytes);
}

BOOST_AUTO_TEST_CASE(a_payload_written_out_of_order_is_not_complete) {
  auto complete_after = [](auto&& write) {
    payload_writer w;
    write(w);
    return w.complete();
  };
  BOOST_TEST(!complete_after([](payload_writer&) {}));
  BOOST_TEST(!complete_after([](payload_writer& w) { w.string("top"); }));
  BOOST_TEST(!complete_after([](payload_writer& w) { // a member short
    w.begin_object(2);
    w.key("a");
    w.null();
  }));
  BOOST_TEST(!complete_after([](payload_writer& w) { // a value without its key
    w.begin_object(1);
    w.null();
  }));
  BOOST_TEST(!complete_after([](payload_writer& w) { // a key without its value
    w.begin_object(1);
    w.key("a");
  }));
  BOOST_TEST(!complete_after([](payload_writer& w) { // a value too many
    w.begin_object(1);
    w.key("a");
    w.begin_array(1);
    w.null();
    w.null();
  }));
  BOOST_TEST(!complete_after([](payload_writer& w) { // two objects
    w.begin_object(0);
    w.begin_object(0);
  }));
  BOOST_TEST(complete_after([](payload_writer& w) { w.begin_object(0); }));
}

BOOST_AUTO_TEST_CASE(an_encoded_payload_keeps_its_memory_alive_wherever_it_moves) {
  bool gone = false;
  std::vector<event> kept;
  {
    auto storage = boost::json::make_shared_resource<watched_resource>(gone);
    payload_writer w;
    write_sample(w);
    auto bytes = w.written();
    auto* stored = static_cast<char*>(storage->allocate(bytes.size(), 1));
    std::memcpy(stored, bytes.data(), bytes.size());
    auto e = event_of(
      event_payload::encoded(std::string_view{stored, bytes.size()}, storage));
    // Moved into an event whose payload has storage of its own, then into
    // a vector: the payload still holds the memory.
    event other;
    other.payload = event_payload{boost::json::storage_ptr{}};
    other = std::move(e);
    kept.push_back(std::move(other));
  }
  BOOST_TEST(!gone);
  BOOST_TEST(!kept[0].payload.decoded());
  BOOST_TEST(kept[0].payload.field("id").as_string() == "user-1");
  BOOST_TEST(kept[0].payload.object() == boost::json::parse(sample_json).as_object());
  kept.clear();
  BOOST_TEST(gone);
}

BOOST_AUTO_TEST_CASE(a_document_merges_an_encoded_payload_as_its_object) {
  document_model_config cfg;
  cfg.name = "users";
  cfg.key = "id";
  cfg.upsert_on = {"Created"};
  cfg.merge_on = {"Updated"};
  document_model from_records{cfg};
  document_model from_objects{cfg};
  auto feed = [&](const char* type, const char* json) {
    auto obj = boost::json::parse(json).as_object();
    std::string bytes;
    internal::encode_event(event_of(event_payload{obj}), bytes);
    // The record's payload, as bus-node's reader leaves it.
    event lazy;
    internal::decode_event_lazy(
      internal::record_cursor{bytes.data(), bytes.size()}.next(), 1, lazy);
    lazy.type = type;
    BOOST_TEST(!lazy.payload.decoded());
    event plain = event_of(event_payload{obj});
    plain.type = type;
    from_records.apply(lazy);
    from_objects.apply(plain);
    return lazy.payload.decoded();
  };
  feed("Created", R"({"id": "u1", "name": "Ada", "n": 1})");
  // Scalars and strings are merged from the record: nothing decoded.
  BOOST_TEST(
    !feed("Updated", R"({"id": "u1", "name": "Ada L", "n": "one", "x": null})"));
  BOOST_TEST(!feed(
    "Updated", R"({"n": 2.5, "id": "u1", "flag": true, "big": 18446744073709551615})"));
  // An array or object in the payload: merged from its object.
  feed("Updated", R"({"id": "u1", "tags": ["a"], "name": {"first": "Ada"}})");
  feed("Updated", R"({"id": "u1", "tags": "none", "name": "Ada"})");
  BOOST_TEST(*from_records.query("u1") == *from_objects.query("u1"));
  BOOST_TEST(from_records.query("u1")->as_object().at("tags") == "none");
}

BOOST_AUTO_TEST_CASE(a_record_with_a_key_twice_merges_as_its_object_reads) {
  // Records passed through from a peer may hold a key twice; the object
  // decoded from them, and field(), keep the first.
  document_model_config cfg;
  cfg.name = "users";
  cfg.key = "id";
  cfg.merge_on = {"Updated"};
  document_model from_record{cfg};
  document_model from_object{cfg};
  payload_writer w;
  w.begin_object(4);
  w.key("id");
  w.string("u1");
  w.key("name");
  w.string("first");
  w.key("name");
  w.string("second");
  w.key("n");
  w.int64(1);
  BOOST_TEST_REQUIRE(w.complete());
  auto updated = [](event_payload payload) {
    auto e = event_of(std::move(payload));
    e.type = "Updated";
    return e;
  };
  auto encoded = updated(event_payload::encoded(w.written()));
  BOOST_TEST(encoded.payload.field("name").as_string() == "first");
  auto decoded = updated(event_payload{encoded.payload.object()});
  for (int i = 0; i < 2; ++i) { // created, then merged into
    from_record.apply(updated(event_payload::encoded(w.written())));
    from_object.apply(decoded);
  }
  BOOST_TEST(*from_record.query("u1") == *from_object.query("u1"));
  BOOST_TEST(from_record.query("u1")->as_object().at("name") == "first");
}

BOOST_AUTO_TEST_SUITE_END()
