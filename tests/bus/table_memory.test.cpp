// Tables faulted in ahead (bus/table_memory.hpp): a growing_map's doubled
// table comes from bytes the page warmer has touched, so the inserts
// that move entries into it take no page faults of their own.

#include "bus/table_memory.hpp"

#include <boost/test/unit_test.hpp>

#include <cstddef>
#include <cstring>

#include "bus/growing_map.hpp"
#include "internal/page_warmer.hpp"
#include "page_faults.hpp"

namespace {

using int_map = bus::growing_map<int, int>;

// Inserts keys [from, to), letting the warmer finish after each insert, as
// an owner with idle cores beside it would see it.
void insert_warm(int_map& m, int from, int to) {
  for (int i = from; i < to; ++i) {
    m.try_emplace(i, 2 * i);
    bus::internal::wait_for_warm_pages();
  }
}

// Inserts keys from `from` on until the map is no longer growing.
int insert_through_drain(int_map& m, int from) {
  while (m.growing())
    m.try_emplace(from, 2 * from), ++from;
  return from;
}

} // namespace

BOOST_AUTO_TEST_SUITE(table_memory_suite)

BOOST_AUTO_TEST_CASE(doubled_tables_come_warm_when_the_warmer_keeps_up) {
  int_map m;
  insert_warm(m, 0, 300'000);
  // 8-byte entries, 136 bytes a group of 15: the tables of 2 k, 4 k, 8 k,
  // 16 k and 32 k groups are the ones of at least 256 KiB.
  BOOST_TEST(m.memory().warm_tables() >= 4u);
  BOOST_TEST(m.memory().cold_tables() == 0u);
  BOOST_REQUIRE(m.size() == 300'000u);
  for (int i = 0; i < 300'000; ++i) {
    auto it = m.find(i);
    BOOST_REQUIRE(it != m.end());
    BOOST_REQUIRE(it->second == 2 * i);
  }
}

BOOST_AUTO_TEST_CASE(a_drain_into_a_warm_table_takes_no_page_faults) {
  int_map m;
  // Up to the doubling into the table of 16 k groups (2.2 MB, some 540
  // pages of 4 KiB).
  int next = 0;
  for (; m.memory().warm_tables() < 4 && next < 300'000; ++next)
    insert_warm(m, next, next + 1);
  BOOST_REQUIRE(m.memory().warm_tables() == 4u);
  BOOST_REQUIRE(m.growing());
  auto before = bus::test::thread_page_faults();
  next = insert_through_drain(m, next);
  auto faults = bus::test::thread_page_faults() - before;
  // Without the warmer the drain faulted in each of the table's pages
  // here (478 when tried).
#ifndef BUS_TEST_SHADOW_FAULTS
  BOOST_TEST(faults < 32);
#else
  static_cast<void>(faults);
#endif
  BOOST_TEST(m.find(next - 1)->second == 2 * (next - 1));
}

BOOST_AUTO_TEST_CASE(a_table_larger_than_the_prepared_one_comes_from_the_heap) {
  bus::table_memory mem;
  auto* small = mem.allocate(1u << 20, 8);
  mem.prepare_double();
  bus::internal::wait_for_warm_pages();
  // Four times the last table, not twice: the 2 MiB prepared will not do.
  auto* big = static_cast<char*>(mem.allocate(4u << 20, 8));
  BOOST_TEST(mem.warm_tables() == 0u);
  BOOST_TEST(mem.cold_tables() == 2u); // the first table had none prepared
  std::memset(big, 1, 4u << 20);
  mem.deallocate(big, 4u << 20, 8);
  mem.deallocate(small, 1u << 20, 8);
}

BOOST_AUTO_TEST_CASE(
  a_table_rebuilt_at_its_size_leaves_the_prepared_bytes_to_the_doubling) {
  bus::table_memory mem;
  auto* first = mem.allocate(1u << 20, 8);
  mem.prepare_double();
  // A rebuild in place after erases: the same size again.
  auto* rebuilt = mem.allocate(1u << 20, 8);
  BOOST_TEST(mem.warm_tables() == 0u);
  auto* doubled = mem.allocate(2u << 20, 8);
  BOOST_TEST(mem.warm_tables() == 1u);
  mem.deallocate(doubled, 2u << 20, 8);
  mem.deallocate(rebuilt, 1u << 20, 8);
  mem.deallocate(first, 1u << 20, 8);
  bus::internal::wait_for_warm_pages();
}

BOOST_AUTO_TEST_CASE(a_prepared_table_is_memory_of_its_own) {
  bus::table_memory mem;
  auto* first = static_cast<unsigned char*>(mem.allocate(1u << 20, 16));
  std::memset(first, 1, 1u << 20);
  mem.prepare_double();
  auto* second = static_cast<unsigned char*>(mem.allocate(2u << 20, 16));
  // Taken whether or not the warmer is done with it.
  BOOST_TEST(mem.warm_tables() == 1u);
  BOOST_TEST(reinterpret_cast<std::uintptr_t>(second) % 16 == 0u);
  std::memset(second, 2, 2u << 20);
  BOOST_TEST(first[(1u << 20) - 1] == 1);
  mem.deallocate(second, 2u << 20, 16);
  bus::internal::wait_for_warm_pages();
  mem.deallocate(first, 1u << 20, 16);
}

BOOST_AUTO_TEST_CASE(a_map_moved_while_it_grows_keeps_its_tables) {
  int_map m;
  insert_warm(m, 0, 40'000);
  int next = 40'000;
  while (!m.growing())
    m.try_emplace(next, 2 * next), ++next;
  int_map moved{std::move(m)};
  m.try_emplace(-1, -2); // the moved-from map is usable
  BOOST_TEST(m.size() == 1u);
  next = insert_through_drain(moved, next);
  insert_warm(moved, next, next + 100'000);
  next += 100'000;
  BOOST_REQUIRE(moved.size() == static_cast<std::size_t>(next));
  for (int i = 0; i < next; ++i)
    BOOST_REQUIRE(moved.find(i)->second == 2 * i);
  m = std::move(moved);
  BOOST_TEST(m.size() == static_cast<std::size_t>(next));
  BOOST_TEST(m.find(next - 1)->second == 2 * (next - 1));
}

BOOST_AUTO_TEST_SUITE_END()
