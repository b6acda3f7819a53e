// An event's payload read back from a log's records stays in its record
// until a reader asks for the object (libbus/include/bus/event_payload.hpp):
// single fields come straight from the record, the object is decoded once
// for every reader, and copies own what they hold.

#include "bus/event_payload.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bus/event.hpp"
#include "bus/memory_log.hpp"

using namespace bus;

namespace {

const char* every_kind = R"({
  "nothing": null, "yes": true, "no": false, "int": -42, "big": 18446744073709551615,
  "pi": 3.5, "text": "caf\u00e9", "empty": "", "list": [1, "two", [3]],
  "nested": {"a": {"b": [null]}}, "last": 7})";

// A memory log holding `n` events with payloads of every kind; with no
// tail kept as events (the default here), every read takes records.
std::unique_ptr<memory_log> log_of(std::size_t n, std::size_t tail = 0) {
  auto log = std::make_unique<memory_log>(tail);
  std::vector<event> batch;
  for (std::size_t i = 1; i <= n; ++i) {
    event e;
    e.id = "e" + std::to_string(i);
    e.type = "A";
    e.payload = boost::json::parse(every_kind).as_object();
    e.payload["n"] = static_cast<std::int64_t>(i);
    batch.push_back(std::move(e));
  }
  log->append(std::move(batch));
  return log;
}

// A memory resource that says when it is destroyed.
class telling_resource final : public boost::json::memory_resource {
public:
  explicit telling_resource(bool* gone) : gone_(gone) {
    // nop
  }

  ~telling_resource() override { *gone_ = true; }

private:
  void* do_allocate(std::size_t n, std::size_t) override { return ::operator new(n); }

  void do_deallocate(void* p, std::size_t, std::size_t) override {
    ::operator delete(p);
  }

  bool do_is_equal(const memory_resource& other) const noexcept override {
    return this == &other;
  }

  bool* gone_;
};

boost::json::object expected_payload(std::int64_t n) {
  auto obj = boost::json::parse(every_kind).as_object();
  obj["n"] = n;
  return obj;
}

} // namespace

BOOST_AUTO_TEST_SUITE(event_payload_suite)

BOOST_AUTO_TEST_CASE(
  a_payload_read_beyond_the_tail_stays_encoded_until_its_object_is_asked) {
  auto log = log_of(200);
  auto batch = log->read(1, 100);
  BOOST_TEST_REQUIRE(batch.size() == 100u);
  auto& p = batch[0].payload;
  BOOST_TEST(!p.decoded());
  BOOST_TEST(p.size() == 12u);
  BOOST_TEST(!p.empty());
  BOOST_TEST(p.field("n").as_int64() == 1);
  BOOST_TEST(!p.decoded()); // a field decodes nothing
  BOOST_TEST(boost::json::serialize(p.object())
             == boost::json::serialize(expected_payload(1)));
  BOOST_TEST(p.decoded());
  BOOST_TEST(p == expected_payload(1));
  // The events of a tail were never records: they are the objects built.
  auto with_tail = log_of(200, memory_log::default_tail_events);
  BOOST_TEST(with_tail->read(1, 100)[0].payload.decoded());
}

BOOST_AUTO_TEST_CASE(fields_read_the_same_from_a_record_and_from_an_object) {
  auto log = log_of(50);
  auto batch = log->read(1, 1);
  auto& encoded = batch[0].payload;
  const event_payload built{expected_payload(1)};
  BOOST_TEST_REQUIRE(!encoded.decoded());
  for (const event_payload* p : {&encoded, &built}) {
    BOOST_TEST((p->field("nothing").kind() == field_kind::null));
    BOOST_TEST(p->field("yes").as_bool() == true);
    BOOST_TEST(p->field("no").as_bool() == false);
    BOOST_TEST(p->field("int").as_int64() == -42);
    BOOST_TEST(p->field("int").as_double() == -42.0);
    BOOST_TEST(p->field("big").as_uint64() == 18446744073709551615ull);
    BOOST_TEST(p->field("pi").as_double() == 3.5);
    BOOST_TEST(p->field("text").as_string() == "caf\xc3\xa9");
    BOOST_TEST(p->field("empty").as_string() == "");
    BOOST_TEST((p->field("list").kind() == field_kind::array));
    BOOST_TEST((p->field("nested").kind() == field_kind::object));
    BOOST_TEST(p->field("last").as_int64() == 7); // past nested values
    BOOST_TEST(!p->field("missing"));
    BOOST_TEST(!p->field("a")); // a key nested deeper is not a field
    BOOST_CHECK_THROW(p->field("text").as_int64(), std::invalid_argument);
    BOOST_CHECK_THROW(p->field("big").as_int64(), std::invalid_argument);
    BOOST_CHECK_THROW(p->field("int").as_uint64(), std::invalid_argument);
    BOOST_CHECK_THROW(p->field("missing").as_string(), std::invalid_argument);
  }
  BOOST_TEST(!encoded.decoded());
}

BOOST_AUTO_TEST_CASE(a_copy_of_an_encoded_payload_outlives_the_log_and_its_batch) {
  event copy;
  event moved_view_holder;
  {
    auto log = log_of(300);
    auto batch = log->read(5, 100);
    BOOST_TEST_REQUIRE(!batch[0].payload.decoded());
    copy = batch[0];
    BOOST_TEST(copy.payload.decoded());
  }
  BOOST_TEST(copy.payload == expected_payload(5));
  BOOST_TEST(copy.payload.field("text").as_string() == "caf\xc3\xa9");
}

BOOST_AUTO_TEST_CASE(a_batch_outlives_the_log_it_was_read_from) {
  event_batch batch;
  {
    auto log = log_of(300);
    batch = log->read(1, 100);
  }
  BOOST_TEST_REQUIRE(!batch[7].payload.decoded());
  BOOST_TEST(batch[7].payload.field("n").as_int64() == 8);
  BOOST_TEST(batch[7].payload == expected_payload(8));
}

BOOST_AUTO_TEST_CASE(changing_an_encoded_payload_decodes_it_first) {
  auto log = log_of(50);
  auto batch = log->read(1, 10);
  auto e = std::vector<event>(batch.begin(), batch.end());
  // A moved event keeps its record (the batch still holds the bytes).
  auto moved = std::move(e[3]);
  e[2].payload["extra"] = "x";
  BOOST_TEST(e[2].payload.field("extra").as_string() == "x");
  BOOST_TEST(e[2].payload.field("n").as_int64() == 3);
  BOOST_TEST(e[2].payload.erase("text") == 1u);
  BOOST_TEST(!e[2].payload.field("text"));
  BOOST_TEST(moved.payload.field("n").as_int64() == 4);
  BOOST_TEST(moved.payload == expected_payload(4));
}

BOOST_AUTO_TEST_CASE(an_empty_payload_reads_as_empty_in_either_form) {
  memory_log log{0};
  std::vector<event> batch(3);
  for (std::size_t i = 0; i < batch.size(); ++i) {
    batch[i].id = "e" + std::to_string(i);
    batch[i].type = "A";
  }
  log.append(std::move(batch));
  auto read = log.read(1, 2);
  BOOST_TEST_REQUIRE(!read[0].payload.decoded());
  BOOST_TEST(read[0].payload.empty());
  BOOST_TEST(!read[0].payload.field("x"));
  BOOST_TEST(read[0].payload.object().empty());
  BOOST_TEST(event_payload{}.empty());
}

// A payload moved in takes the storage of the one moved, as a moved-to
// object of its own would: bus-node's requests are made with their chunk's
// arena, and an event that kept it would count a reference on it with each
// move (event_fast_path.cpp).
BOOST_AUTO_TEST_CASE(a_payload_moved_in_brings_its_own_storage) {
  auto arena = boost::json::make_shared_resource<boost::json::monotonic_resource>();
  event_payload in_arena{arena};
  event_payload on_heap{boost::json::object{{"k", 1}}};
  in_arena = std::move(on_heap);
  BOOST_TEST(in_arena.storage().get() == boost::json::storage_ptr{}.get());
  BOOST_TEST(in_arena.field("k").as_int64() == 1);
  event_payload fresh;
  fresh = event_payload{arena};
  BOOST_TEST(fresh.storage().get() == arena.get());
  // Still encoded after the move: the bytes, not an object, come along.
  auto log = log_of(1);
  auto batch = log->read(1, 1);
  event_payload moved{arena};
  moved = event_payload::encoded(batch[0].payload.encoded_bytes());
  BOOST_TEST(!moved.decoded());
  BOOST_TEST(moved == expected_payload(1));
  BOOST_TEST(moved.storage().get() == boost::json::storage_ptr{}.get());
}

// A log's reader makes each event first and then points its payload at
// the record: whatever the payload held before is gone, and nothing it
// kept (an object, its arena, the owner of other bytes) stays alive.
BOOST_AUTO_TEST_CASE(a_payload_assigned_a_record_drops_what_it_held) {
  auto log = log_of(2);
  auto batch = log->read(1, 2);
  auto arena = boost::json::make_shared_resource<boost::json::monotonic_resource>();
  event_payload held{arena};
  held.mutate()["stale"] = "was here";
  held.assign_encoded(batch[0].payload.encoded_bytes());
  BOOST_TEST(!held.decoded());
  BOOST_TEST(!held.field("stale"));
  BOOST_TEST(held.field("n").as_int64() == 1);
  BOOST_TEST(held == expected_payload(1));
  BOOST_TEST(held.storage().get() == boost::json::storage_ptr{}.get());
  // Bytes kept by an owner of their own: the owner goes with them.
  bool keeper_gone = false;
  auto kept = event_payload::encoded(
    batch[0].payload.encoded_bytes(),
    boost::json::make_shared_resource<telling_resource>(&keeper_gone));
  BOOST_TEST(!keeper_gone);
  kept.assign_encoded(batch[1].payload.encoded_bytes());
  BOOST_TEST(keeper_gone);
  BOOST_TEST(kept == expected_payload(2));
  // And a default one, as the reader makes them, takes the record as it is.
  event_payload fresh;
  fresh.assign_encoded(batch[1].payload.encoded_bytes());
  BOOST_TEST(!fresh.decoded());
  BOOST_TEST(fresh.encoded_bytes() == batch[1].payload.encoded_bytes());
  BOOST_TEST(fresh == expected_payload(2));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(event_payload_multithread)

BOOST_AUTO_TEST_CASE(readers_on_several_threads_see_one_decoded_object) {
  auto log = log_of(2000);
  auto batch = log->read(1, 1024);
  BOOST_TEST_REQUIRE(!batch[0].payload.decoded());
  std::vector<std::vector<const boost::json::object*>> seen(4);
  std::vector<std::thread> threads;
  for (auto& s : seen)
    threads.emplace_back([&batch, &s] {
      for (auto& e : batch) {
        // Half read a field first: both paths race with the decoders.
        if (e.seq % 2 == 0)
          (void) e.payload.field("n");
        s.push_back(&e.payload.object());
      }
    });
  for (auto& t : threads)
    t.join();
  for (std::size_t i = 0; i < batch.size(); ++i) {
    for (auto& s : seen)
      BOOST_TEST_REQUIRE(s[i] == seen[0][i]);
    BOOST_TEST_REQUIRE(batch[i].payload
                       == expected_payload(static_cast<std::int64_t>(i + 1)));
  }
}

BOOST_AUTO_TEST_SUITE_END()
