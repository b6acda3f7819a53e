// The durable log's id filter (libbus/src/internal/id_filter.hpp).

#include "internal/id_filter.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <functional>
#include <string>

namespace {

std::uint64_t hash_of(const std::string& id) {
  return std::hash<std::string>{}(id);
}

std::string numbered_id(std::size_t i) {
  return "e" + std::to_string(i);
}

} // namespace

BOOST_AUTO_TEST_SUITE(id_filter)

BOOST_AUTO_TEST_CASE(an_empty_filter_holds_nothing) {
  bus::internal::id_filter filter;
  for (std::size_t i = 0; i < 1000; ++i)
    BOOST_TEST(!filter.may_contain(hash_of(numbered_id(i))));
  BOOST_TEST(filter.size() == 0u);
}

BOOST_AUTO_TEST_CASE(every_added_id_may_be_held_across_stages) {
  // No false "new": the log would append a redelivered id twice.
  bus::internal::id_filter filter;
  constexpr std::size_t n = 400000; // past the first two stages (64 k, 256 k)
  for (std::size_t i = 0; i < n; ++i)
    filter.add(hash_of(numbered_id(i)));
  BOOST_TEST(filter.stages() >= 3u);
  BOOST_TEST(filter.size() == n);
  std::size_t missed = 0;
  for (std::size_t i = 0; i < n; ++i)
    if (!filter.may_contain(hash_of(numbered_id(i))))
      ++missed;
  BOOST_TEST(missed == 0u);
}

BOOST_AUTO_TEST_CASE(most_unseen_ids_are_answered_new) {
  // A false positive costs a lookup on disk: they must stay rare, about
  // 0.5 % per stage.
  bus::internal::id_filter filter;
  for (std::size_t i = 0; i < 300000; ++i)
    filter.add(hash_of(numbered_id(i)));
  std::size_t maybe = 0;
  constexpr std::size_t probes = 200000;
  for (std::size_t i = 0; i < probes; ++i)
    if (filter.may_contain(hash_of("other-" + std::to_string(i))))
      ++maybe;
  BOOST_TEST(maybe < probes * filter.stages() / 100,
             maybe << " false positives in " << probes << " over " << filter.stages()
                   << " stages");
}

BOOST_AUTO_TEST_CASE(memory_grows_by_a_couple_of_bytes_per_id) {
  bus::internal::id_filter filter;
  constexpr std::size_t n = 1000000;
  for (std::size_t i = 0; i < n; ++i)
    filter.add(hash_of(numbered_id(i)));
  // 1.5 bytes per id in each stage; the last stage is not full yet.
  BOOST_TEST(filter.memory_bytes() <= 4 * n, filter.memory_bytes()
                                               << " bytes for " << n << " ids");
  BOOST_TEST(filter.memory_bytes() >= n);
}

BOOST_AUTO_TEST_CASE(first_stage_sized_for_a_reopened_store_takes_it_whole) {
  // A store reopened with 500 k ids fills the first stage without growing.
  bus::internal::id_filter filter{750000};
  for (std::size_t i = 0; i < 500000; ++i)
    filter.add(hash_of(numbered_id(i)));
  BOOST_TEST(filter.stages() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
