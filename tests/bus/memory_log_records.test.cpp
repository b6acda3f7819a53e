// The in-memory log beyond its tail: events kept only as compact records
// (libbus/include/bus/memory_log.hpp), decoded again on reading.

#include "bus/memory_log.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

using namespace bus;

namespace {

event make_event(std::string id, std::string_view payload = "{}") {
  event e;
  e.id = std::move(id);
  e.type = "A";
  e.payload = boost::json::parse(payload).as_object();
  return e;
}

std::vector<event> numbered(std::size_t first, std::size_t n) {
  std::vector<event> result;
  for (auto i = first; i < first + n; ++i)
    result.push_back(
      make_event("e" + std::to_string(i), "{\"n\": " + std::to_string(i) + "}"));
  return result;
}

// Every field of `e`, as text (boost::json::object has no operator<<).
std::string show(const event& e) {
  return e.id + " " + e.type + " " + boost::json::serialize(e.payload) + " "
         + boost::json::serialize(e.metadata) + " seq " + std::to_string(e.seq) + " ts "
         + std::to_string(e.timestamp) + " v" + std::to_string(e.schema_version)
         + (e.id_derived ? " derived" : "");
}

} // namespace

BOOST_AUTO_TEST_SUITE(memory_log_records)

BOOST_AUTO_TEST_CASE(events_beyond_the_tail_read_back_as_appended) {
  // Every kind of JSON value, both flags and every field, in records
  // shorter and longer than 128 bytes (a one-byte and a longer length).
  std::vector<event> batch;
  batch.push_back(make_event("small"));
  auto full = make_event("full", R"({
    "null": null, "yes": true, "no": false, "int": -9007199254740993,
    "big": 18446744073709551615, "pi": 3.141592653589793, "tiny": -1e-300,
    "text": "caf\u00e9 \u2603 \"quoted\"\n", "empty": "", "list": [1, "two", [3], {}],
    "nested": {"a": {"b": {"c": [null, false]}}}})");
  full.type = "OrderPlaced";
  full.metadata = boost::json::parse(R"({"correlation": "c-1", "n": 7})").as_object();
  full.schema_version = 3;
  full.timestamp = -42; // before the epoch: kept as given
  full.id_derived = true;
  batch.push_back(full);
  auto large = make_event("large");
  large.payload["blob"] = std::string(20000, 'x');
  batch.push_back(large);
  bus::memory_log log{0}; // no tail: every read decodes records
  auto appended = log.append(batch);
  std::vector<std::string> expected;
  for (auto& e : appended.appended)
    expected.push_back(show(e));
  appended = {}; // the log keeps nothing else of them
  std::vector<std::string> read;
  for (auto& e : log.read(1, 10))
    read.push_back(show(e));
  BOOST_TEST(read == expected);
  BOOST_TEST(expected.size() == 3u);
  BOOST_TEST(log.read(2, 1).front().payload.at("big").as_uint64()
             == std::numeric_limits<std::uint64_t>::max());
}

BOOST_AUTO_TEST_CASE(reads_straddling_the_tail_visit_every_event_once_in_order) {
  for (std::size_t tail : {0u, 5u, 100u, 5000u}) {
    BOOST_TEST_CONTEXT("tail " << tail) {
      bus::memory_log log{tail};
      for (std::size_t i = 0; i < 3000; i += 30)
        log.append(numbered(i, 30));
      for (std::size_t max : {1u, 7u, 64u, 4096u}) {
        std::uint64_t next = 1;
        auto in_order = true;
        for (auto batch = log.read(next, max); !batch.empty();
             batch = log.read(next, max)) {
          in_order = in_order && batch.size() <= max;
          for (auto& e : batch) {
            in_order = in_order && e.seq == next
                       && e.payload.at("n").as_int64()
                            == static_cast<std::int64_t>(next - 1);
            ++next;
          }
        }
        BOOST_TEST(in_order, "max " << max);
        BOOST_TEST(next == 3001u);
      }
      BOOST_TEST(log.read(2990, 5).front().id == "e2989");
    }
  }
}

BOOST_AUTO_TEST_CASE(redelivery_of_an_id_far_beyond_the_tail_is_a_duplicate) {
  bus::memory_log log{64};
  for (std::size_t i = 0; i < 50000; i += 500)
    log.append(numbered(i, 500));
  auto again = log.append(
    {make_event("e0"), make_event("e25000"), make_event("e49999"), make_event("new")});
  BOOST_TEST(again.outcomes[0].duplicate);
  BOOST_TEST(again.outcomes[0].seq == 1u);
  BOOST_TEST(again.outcomes[1].duplicate);
  BOOST_TEST(again.outcomes[1].seq == 25001u);
  BOOST_TEST(again.outcomes[2].duplicate);
  BOOST_TEST(!again.outcomes[3].duplicate);
  BOOST_TEST(log.head() == 50001u);
  BOOST_TEST(log.find("e777").value_or(0) == 778u);
  // The original stays: the redelivery's content is not what is read.
  BOOST_TEST(log.read(1, 1).front().payload.at("n").as_int64() == 0);
}

BOOST_AUTO_TEST_CASE(appended_views_outlive_the_tail) {
  bus::memory_log log{16};
  auto first = log.append(numbered(0, 10)).appended;
  for (std::size_t i = 10; i < 10000; i += 10)
    log.append(numbered(i, 10));
  BOOST_REQUIRE(first.size() == 10u);
  BOOST_TEST(first.front().id == "e0");
  BOOST_TEST(first.back().payload.at("n").as_int64() == 9);
}

BOOST_AUTO_TEST_CASE(readers_of_an_old_stretch_share_one_decoding) {
  // Four projectors catching up over the same range: one decoded copy of
  // it, not four.
  bus::memory_log log{16};
  for (std::size_t i = 0; i < 20000; i += 100)
    log.append(numbered(i, 100));
  auto first = log.read(1, 4096);
  auto second = log.read(1, 4096);
  BOOST_REQUIRE(first.size() == 4096u);
  BOOST_TEST(&first.front() == &second.front());
  auto later = log.read(100, 50000); // within the same stretch
  BOOST_TEST(&later.front() == &first[99]);
  BOOST_TEST(later.size() == 4096u - 99u); // to the end of the stretch
  // Reads of other stretches replace the least recently used ones; views
  // of a replaced stretch stay valid.
  for (std::uint64_t from = 4097; from < 20000; from += 4096)
    log.read(from, 4096);
  BOOST_TEST(first.back().id == "e4095");
  BOOST_TEST(log.read(1, 4096).front().id == "e0");
  // A point read (an id check) decodes only itself.
  auto point = log.read(5000, 1);
  BOOST_TEST(point.size() == 1u);
  BOOST_TEST(point.front().id == "e4999");
}

BOOST_AUTO_TEST_SUITE_END()
