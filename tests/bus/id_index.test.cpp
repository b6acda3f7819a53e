// The memory log's id index (libbus/src/internal/id_index.hpp).

#include "internal/id_index.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdint>

using bus::internal::id_index;

namespace {

std::uint64_t hash_of(std::uint64_t i) {
  // splitmix64: ids' hashes spread over the table as real ones do.
  i += 0x9e3779b97f4a7c15ull;
  i = (i ^ (i >> 30)) * 0xbf58476d1ce4e5b9ull;
  i = (i ^ (i >> 27)) * 0x94d049bb133111ebull;
  return i ^ (i >> 31);
}

// Every seq is a different id here.
auto never_same = [](std::uint64_t) { return false; };

} // namespace

BOOST_AUTO_TEST_SUITE(id_index_suite)

BOOST_AUTO_TEST_CASE(every_inserted_id_is_found_across_doublings) {
  id_index index;
  constexpr std::uint64_t n = 100'000;
  for (std::uint64_t seq = 1; seq <= n; ++seq) {
    index.insert_new(hash_of(seq), seq);
    // Also while a doubling moves entries: an id then is in either table.
    auto half = (seq + 1) / 2;
    if (index.find(hash_of(half), [&](std::uint64_t s) { return s == half; }) != half)
      BOOST_FAIL("seq " << half << " lost after inserting " << seq);
  }
  BOOST_TEST(index.size() == n);
  for (std::uint64_t seq = 1; seq <= n; ++seq) {
    auto found = index.find(hash_of(seq), [&](std::uint64_t s) { return s == seq; });
    if (found != seq)
      BOOST_FAIL("seq " << seq << " found as " << found);
  }
  BOOST_TEST(index.find(hash_of(n + 1), never_same) == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
