#include "bus/memory_log.hpp"

#include "support/json_events.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

using namespace bus;
using bus::test::json_object;

namespace {

/// Returns "<prefix><i>", the id events() gives its i-th event.
std::string id_of(std::size_t i, const std::string& prefix = "e") {
  std::string id = prefix;
  id += std::to_string(i);
  return id;
}

event logged_event(std::string id, std::string type = "A",
                   boost::json::object payload = {}) {
  event e;
  e.id = std::move(id);
  e.type = std::move(type);
  e.payload = std::move(payload);
  return e;
}

/// Events "<prefix><i>" for i in [first, first + n), payload {"n": i}.
std::vector<event> events(std::size_t first, std::size_t n,
                          const std::string& prefix = "e") {
  std::vector<event> result;
  for (auto i = first; i < first + n; ++i) {
    boost::json::object payload;
    payload["n"] = static_cast<std::int64_t>(i);
    result.push_back(logged_event(id_of(i, prefix), "A", payload));
  }
  return result;
}

std::vector<std::string> ids_of(const event_batch& batch) {
  std::vector<std::string> result;
  for (auto& e : batch)
    result.push_back(e.id);
  return result;
}

std::vector<std::uint64_t> seqs_of(const event_batch& batch) {
  std::vector<std::uint64_t> result;
  for (auto& e : batch)
    result.push_back(e.seq);
  return result;
}

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

} // namespace

BOOST_AUTO_TEST_SUITE(memory_log)

BOOST_AUTO_TEST_CASE(empty_log_has_head_zero_and_reads_nothing) {
  bus::memory_log log;
  BOOST_TEST(log.head() == 0u);
  BOOST_TEST(log.read(1, 10).empty());
  BOOST_TEST(!log.find("e0").has_value());
}

BOOST_AUTO_TEST_CASE(measures_no_store_timings) {
  // Metrics leave the store's histograms out for a log in memory.
  bus::memory_log log;
  BOOST_TEST(!log.timings().measured);
}

BOOST_AUTO_TEST_CASE(seqs_are_dense_from_one_across_batches) {
  bus::memory_log log;
  auto first = log.append(events(0, 3));
  BOOST_REQUIRE(first.outcomes.size() == 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    BOOST_TEST(first.outcomes[i].id == id_of(i));
    BOOST_TEST(first.outcomes[i].seq == i + 1);
    BOOST_TEST(!first.outcomes[i].duplicate);
  }
  auto second = log.append(events(3, 2));
  BOOST_REQUIRE(second.outcomes.size() == 2u);
  BOOST_TEST(second.outcomes[0].seq == 4u);
  BOOST_TEST(second.outcomes[1].seq == 5u);
  BOOST_TEST(log.head() == 5u);
  auto all = log.read(1, 100);
  // The first read may stop at the end of the first batch.
  BOOST_TEST(all.first_seq() == 1u);
}

BOOST_AUTO_TEST_CASE(duplicate_id_is_not_appended_and_reports_the_existing_seq) {
  bus::memory_log log;
  log.append(events(0, 2));
  // Same id as e1, different content: the id alone decides.
  auto again = logged_event("e1", "B", json_object(R"({"n": 99})"));
  auto result = log.append({again, logged_event("e2")});
  BOOST_REQUIRE(result.outcomes.size() == 2u);
  BOOST_TEST(result.outcomes[0].id == "e1");
  BOOST_TEST(result.outcomes[0].seq == 2u);
  BOOST_TEST(result.outcomes[0].duplicate);
  BOOST_TEST(result.outcomes[1].id == "e2");
  BOOST_TEST(result.outcomes[1].seq == 3u);
  BOOST_TEST(!result.outcomes[1].duplicate);
  BOOST_TEST(log.head() == 3u);
  BOOST_TEST((ids_of(result.appended) == std::vector<std::string>{"e2"}));
  // The stored e1 is the original.
  auto stored = log.read(2, 1);
  BOOST_REQUIRE(stored.size() == 1u);
  BOOST_TEST(stored.front().type == "A");
  BOOST_TEST(stored.front().payload == json_object(R"({"n": 1})"));
}

BOOST_AUTO_TEST_CASE(batch_of_only_duplicates_appends_nothing) {
  bus::memory_log log;
  log.append(events(0, 3));
  auto result = log.append(events(0, 3));
  BOOST_REQUIRE(result.outcomes.size() == 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    BOOST_TEST(result.outcomes[i].duplicate);
    BOOST_TEST(result.outcomes[i].seq == i + 1);
  }
  BOOST_TEST(result.appended.empty());
  BOOST_TEST(log.head() == 3u);
  BOOST_TEST(log.read(4, 1).empty());
}

BOOST_AUTO_TEST_CASE(duplicate_within_one_batch_is_appended_once) {
  bus::memory_log log;
  auto result = log.append({logged_event("a"), logged_event("b"),
                            logged_event("a", "Other"), logged_event("c")});
  BOOST_REQUIRE(result.outcomes.size() == 4u);
  BOOST_TEST(result.outcomes[0].seq == 1u);
  BOOST_TEST(!result.outcomes[0].duplicate);
  BOOST_TEST(result.outcomes[1].seq == 2u);
  BOOST_TEST(result.outcomes[2].id == "a");
  BOOST_TEST(result.outcomes[2].seq == 1u);
  BOOST_TEST(result.outcomes[2].duplicate);
  BOOST_TEST(result.outcomes[3].seq == 3u);
  BOOST_TEST(!result.outcomes[3].duplicate);
  BOOST_TEST(log.head() == 3u);
  BOOST_TEST((ids_of(result.appended) == std::vector<std::string>{"a", "b", "c"}));
  BOOST_TEST(log.read(1, 1).front().type == "A");
}

BOOST_AUTO_TEST_CASE(read_returns_the_range_in_order) {
  bus::memory_log log;
  log.append(events(0, 10));
  auto batch = log.read(3, 4);
  BOOST_TEST((seqs_of(batch) == std::vector<std::uint64_t>{3, 4, 5, 6}));
  BOOST_TEST((ids_of(batch) == std::vector<std::string>{"e2", "e3", "e4", "e5"}));
  BOOST_TEST(batch.first_seq() == 3u);
  BOOST_TEST(batch.last_seq() == 6u);
}

BOOST_AUTO_TEST_CASE(read_returns_fewer_at_the_head) {
  bus::memory_log log;
  log.append(events(0, 10));
  BOOST_TEST((seqs_of(log.read(8, 10)) == std::vector<std::uint64_t>{8, 9, 10}));
  BOOST_TEST((seqs_of(log.read(10, 1)) == std::vector<std::uint64_t>{10}));
}

BOOST_AUTO_TEST_CASE(read_returns_none_past_the_head_at_zero_or_for_zero_max) {
  bus::memory_log log;
  log.append(events(0, 10));
  BOOST_TEST(log.read(11, 5).empty());
  BOOST_TEST(log.read(1000, 5).empty());
  BOOST_TEST(log.read(0, 5).empty());
  BOOST_TEST(log.read(1, 0).empty());
}

BOOST_AUTO_TEST_CASE(read_within_a_later_batch_starts_at_the_asked_seq) {
  bus::memory_log log;
  log.append(events(0, 3));
  log.append(events(3, 4));
  log.append(events(7, 2));
  auto batch = log.read(5, 2);
  BOOST_TEST((seqs_of(batch) == std::vector<std::uint64_t>{5, 6}));
  BOOST_TEST((ids_of(batch) == std::vector<std::string>{"e4", "e5"}));
  auto last = log.read(9, 5);
  BOOST_TEST((ids_of(last) == std::vector<std::string>{"e8"}));
}

BOOST_AUTO_TEST_CASE(read_across_a_batch_boundary_returns_a_contiguous_prefix) {
  bus::memory_log log;
  log.append(events(0, 3));
  log.append(events(3, 4));
  // Fewer than asked is allowed at a chunk end, but never none and never a gap.
  auto batch = log.read(2, 10);
  BOOST_REQUIRE(!batch.empty());
  BOOST_TEST(batch.size() <= 6u);
  std::uint64_t expected = 2;
  for (auto& e : batch)
    BOOST_TEST(e.seq == expected++);
}

BOOST_AUTO_TEST_CASE(reading_until_empty_visits_every_event_exactly_once) {
  bus::memory_log log;
  std::vector<std::string> expected;
  std::size_t next_id = 0;
  for (auto n : {1, 5, 2, 7, 3, 1, 4}) {
    auto batch = events(next_id, static_cast<std::size_t>(n));
    // A redelivered event inside the batch must not show up twice.
    if (next_id > 0)
      batch.push_back(logged_event("e0"));
    auto result = log.append(std::move(batch));
    for (auto& e : result.appended)
      expected.push_back(e.id);
    next_id += static_cast<std::size_t>(n);
  }
  BOOST_REQUIRE(log.head() == 23u);
  BOOST_REQUIRE(expected.size() == 23u);
  for (std::size_t max : {1u, 2u, 3u, 4u, 6u, 100u}) {
    BOOST_TEST_CONTEXT("max = " << max) {
      std::vector<std::string> seen;
      std::uint64_t next = 1;
      for (auto batch = log.read(next, max); !batch.empty();
           batch = log.read(next, max)) {
        BOOST_TEST(batch.size() <= max);
        for (auto& e : batch) {
          BOOST_TEST(e.seq == next);
          ++next;
          seen.push_back(e.id);
        }
      }
      BOOST_TEST(next == 24u);
      BOOST_TEST(seen == expected);
    }
  }
}

BOOST_AUTO_TEST_CASE(timestamp_is_set_when_zero_and_kept_when_given) {
  bus::memory_log log;
  auto given = logged_event("given");
  given.timestamp = 42;
  auto before = now_ns();
  auto result = log.append({logged_event("unset"), given});
  auto after = now_ns();
  BOOST_REQUIRE(result.appended.size() == 2u);
  BOOST_TEST(result.appended[0].timestamp >= before);
  BOOST_TEST(result.appended[0].timestamp <= after);
  BOOST_TEST(result.appended[1].timestamp == 42);
  auto stored = log.read(1, 2);
  BOOST_REQUIRE(stored.size() == 2u);
  BOOST_TEST(stored[0].timestamp == result.appended[0].timestamp);
  BOOST_TEST(stored[1].timestamp == 42);
}

BOOST_AUTO_TEST_CASE(appended_batch_views_exactly_the_new_events) {
  bus::memory_log log;
  log.append(events(0, 2));
  auto result = log.append({logged_event("e1"), logged_event("x"), logged_event("e0"),
                            logged_event("y"), logged_event("x")});
  BOOST_TEST((ids_of(result.appended) == std::vector<std::string>{"x", "y"}));
  BOOST_TEST((seqs_of(result.appended) == std::vector<std::uint64_t>{3, 4}));
  BOOST_TEST(result.appended.first_seq() == 3u);
  BOOST_TEST(result.appended.last_seq() == 4u);
  // Reads share the stored events instead of copying them.
  auto read = log.read(3, 2);
  BOOST_REQUIRE(read.size() == 2u);
  BOOST_TEST(&read.front() == &result.appended.front());
}

BOOST_AUTO_TEST_CASE(find_returns_the_seq_of_a_held_id) {
  bus::memory_log log;
  log.append(events(0, 3));
  log.append(events(3, 2));
  BOOST_TEST(log.find("e0").value_or(0) == 1u);
  BOOST_TEST(log.find("e2").value_or(0) == 3u);
  BOOST_TEST(log.find("e4").value_or(0) == 5u);
  BOOST_TEST(!log.find("e5").has_value());
  BOOST_TEST(!log.find("").has_value());
  log.append({logged_event("e2", "B")});
  BOOST_TEST(log.find("e2").value_or(0) == 3u);
}

BOOST_AUTO_TEST_CASE(ids_stay_findable_after_many_batches) {
  // Long ids live on the heap, short ones inside the event; both must stay
  // findable while the log grows.
  bus::memory_log log;
  const std::string long_prefix = "a-rather-long-event-id-prefix-";
  for (std::size_t i = 0; i < 500; ++i) {
    log.append(events(i * 2, 2));
    log.append(events(i, 1, long_prefix));
  }
  BOOST_REQUIRE(log.head() == 1500u);
  for (std::size_t i = 0; i < 1000; ++i)
    BOOST_TEST_REQUIRE(log.find(id_of(i)).has_value());
  for (std::size_t i = 0; i < 500; ++i)
    BOOST_TEST_REQUIRE(log.find(id_of(i, long_prefix)).has_value());
  auto dup = log.append(events(0, 1, long_prefix));
  BOOST_TEST(dup.outcomes.at(0).duplicate);
  BOOST_TEST(dup.outcomes.at(0).seq == 3u);
}

BOOST_AUTO_TEST_CASE(ids_stay_unique_while_the_index_grows_in_steps) {
  // The id index doubles incrementally (old entries move a few per insert):
  // every id must stay findable, and every repeat a duplicate, before,
  // during and after each move, across several doublings.
  bus::memory_log log;
  constexpr std::size_t n = 40000;
  for (std::size_t i = 0; i < n; i += 100) {
    log.append(events(i, 100));
    // A repeat of an early id, of the previous batch, and of this one.
    auto again = log.append(events(i / 2, 1));
    BOOST_REQUIRE(again.outcomes.at(0).duplicate);
    BOOST_REQUIRE_EQUAL(again.outcomes.at(0).seq, i / 2 + 1);
    again = log.append(events(i + 99, 1));
    BOOST_REQUIRE(again.outcomes.at(0).duplicate);
  }
  BOOST_REQUIRE_EQUAL(log.head(), n);
  for (std::size_t i = 0; i < n; ++i)
    BOOST_REQUIRE_EQUAL(log.find(id_of(i)).value_or(0), i + 1);
  BOOST_TEST(!log.find(id_of(n)).has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(memory_log_walk)

BOOST_AUTO_TEST_CASE(for_each_batch_visits_every_event_once_in_order) {
  bus::memory_log store;
  store.append(events(0, 5));
  store.append(events(5, 3)); // a second chunk
  store.append(events(8, 4));
  std::vector<std::uint64_t> seen;
  for_each_batch(
    store,
    [&](const event_batch& b) {
      for (auto& e : b)
        seen.push_back(e.seq);
    },
    1, 2);
  std::vector<std::uint64_t> all{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  BOOST_TEST(seen == all, boost::test_tools::per_element());
  seen.clear();
  for_each_batch(
    store,
    [&](const event_batch& b) {
      for (auto& e : b)
        seen.push_back(e.seq);
    },
    7);
  BOOST_TEST((seen == std::vector<std::uint64_t>{7, 8, 9, 10, 11, 12}));
  seen.clear();
  for_each_batch(bus::memory_log{}, [&](const event_batch&) { seen.push_back(0); });
  BOOST_TEST(seen.empty());
}

BOOST_AUTO_TEST_SUITE_END()
