// The memory log's id index (libbus/src/internal/id_index.hpp).

#include "internal/id_index.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdint>

#include "internal/page_warmer.hpp"
#include "page_faults.hpp"

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

// The table a doubling moves into is mapped ahead and faulted in by the
// page warmer: the log's owner (the bus actor) takes no faults for it. It
// used to touch its pages itself, and each first touch of a huge page
// stopped it for some 5 ms.
BOOST_AUTO_TEST_CASE(the_doubled_table_is_faulted_in_off_the_inserting_thread) {
  id_index index;
  // 1 << 21 slots (16 MiB): the next table is 32 MiB, 16 huge pages (8192
  // small ones), each a fault of the inserting thread without the warmer.
  index.reserve(1u << 20);
  std::uint64_t seq = 0;
  // Past a quarter full, the next table is mapped and handed over.
  while (seq < (1u << 19) + 64) {
    ++seq;
    index.insert_new(hash_of(seq), seq);
  }
  bus::internal::wait_for_warm_pages();
  auto before = bus::test::thread_page_faults();
  // Up to the doubling and through the whole move.
  while (seq < (1u << 20) + (1u << 19)) {
    ++seq;
    index.insert_new(hash_of(seq), seq);
  }
  auto taken = bus::test::thread_page_faults() - before;
  BOOST_TEST_MESSAGE("page faults of the inserting thread: " << taken);
#ifndef BUS_TEST_SHADOW_FAULTS
  // A stray fault or two (a page of the stack, the kernel's own) is not the
  // table's 16.
  BOOST_TEST(taken <= 2);
#endif
}

BOOST_AUTO_TEST_SUITE_END()
