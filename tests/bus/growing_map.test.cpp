#include "bus/growing_map.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace {

using map = bus::growing_map<std::string, int>;

// Counts the moves of every value: a table rehashed at once moves all of
// its values in one insert.
struct counted {
  static inline std::size_t moves = 0;
  int n = 0;
  explicit counted(int x) : n(x) {}
  counted(const counted&) = default;
  counted(counted&& other) noexcept : n(other.n) { ++moves; }
  counted& operator=(const counted&) = default;
  counted& operator=(counted&& other) noexcept {
    n = other.n;
    ++moves;
    return *this;
  }
};

std::map<std::string, int> contents(const map& m) {
  std::map<std::string, int> result;
  for (auto& [k, v] : m)
    BOOST_REQUIRE(result.emplace(k, v).second); // each key once
  return result;
}

std::string key(std::size_t i) {
  return "key" + std::to_string(i);
}

// Inserts keys until the map starts growing; returns the next key number.
std::size_t fill_until_growing(map& m) {
  std::size_t i = 0;
  while (!m.growing())
    m.try_emplace(key(i), static_cast<int>(i)), ++i;
  return i;
}

} // namespace

BOOST_AUTO_TEST_SUITE(growing_map_suite)

BOOST_AUTO_TEST_CASE(an_insert_moves_a_few_values_never_the_whole_table) {
  using counted_map = bus::growing_map<int, counted>;
  counted_map m;
  std::size_t most = 0;
  bool grew = false;
  for (int i = 0; i < 200000; ++i) {
    auto before = counted::moves;
    m.try_emplace(i, i);
    most = std::max(most, counted::moves - before);
    grew = grew || m.growing();
  }
  BOOST_TEST(grew);
  // Below incremental_from a table still doubles at once (at most that many
  // moves); above it, an insert moves its share of the old table.
  BOOST_TEST(most <= counted_map::incremental_from);
  std::size_t late = 0;
  for (int i = 200000; i < 400000; ++i) {
    auto before = counted::moves;
    m.try_emplace(i, i);
    late = std::max(late, counted::moves - before);
  }
  BOOST_TEST(late <= counted_map::moves_per_insert);
  BOOST_TEST(m.size() == 400000u);
  for (int i = 0; i < 400000; i += 997)
    BOOST_TEST(m.find(i)->second.n == i);
}

BOOST_AUTO_TEST_CASE(finds_iterates_and_erases_as_a_map_while_it_grows) {
  map m;
  std::map<std::string, int> ref;
  std::mt19937 rng{7};
  std::size_t seen_growing = 0;
  for (std::size_t step = 0; step < 300000; ++step) {
    auto k = key(rng() % 60000);
    switch (rng() % 8) {
      case 0: { // erase by key
        BOOST_REQUIRE_EQUAL(m.erase(k), ref.erase(k));
        break;
      }
      case 1: { // erase through a found iterator, wherever it is
        auto i = m.find(k);
        BOOST_REQUIRE_EQUAL(i != m.end(), ref.count(k) == 1);
        if (i != m.end()) {
          m.erase(i);
          ref.erase(k);
        }
        break;
      }
      case 2: { // update in place
        if (auto i = m.find(k); i != m.end())
          i->second += 1, ref[k] += 1;
        break;
      }
      default: { // insert, or find what is there
        auto [i, inserted] = m.try_emplace(k, static_cast<int>(step));
        auto [j, ref_inserted] = ref.try_emplace(k, static_cast<int>(step));
        BOOST_REQUIRE_EQUAL(inserted, ref_inserted);
        BOOST_REQUIRE_EQUAL(i->second, j->second);
        break;
      }
    }
    BOOST_REQUIRE_EQUAL(m.size(), ref.size());
    if (m.growing() && ++seen_growing % 5000 == 1)
      BOOST_REQUIRE(contents(m) == ref);
  }
  BOOST_TEST(seen_growing > 0u);
  BOOST_TEST((contents(m) == ref));
  for (auto& [k, v] : ref)
    BOOST_TEST(m.contains(k));
}

BOOST_AUTO_TEST_CASE(erasing_everything_while_it_grows_leaves_an_empty_map) {
  map m;
  auto n = fill_until_growing(m);
  BOOST_TEST(m.size() == n);
  // Half by key, then the rest through iterators in order: the entries
  // still waiting to move come last, in the order they move in, so the
  // walk erases the very entry the next move would take, each time.
  for (std::size_t i = 0; i < n; i += 2)
    m.erase(key(i));
  for (auto i = m.begin(); i != m.end();) {
    auto next = std::next(i);
    m.erase(i);
    i = next;
  }
  BOOST_TEST(m.empty());
  BOOST_TEST(!m.growing());
  BOOST_TEST((m.begin() == m.end()));
  m.try_emplace(std::string{"again"}, 1);
  BOOST_TEST(m.find(std::string{"again"})->second == 1);
}

BOOST_AUTO_TEST_CASE(reserve_and_clear_finish_or_drop_a_growth) {
  map m;
  auto n = fill_until_growing(m);
  m.reserve(4 * n);
  BOOST_TEST(!m.growing());
  BOOST_TEST(m.size() == n);
  for (std::size_t i = 0; i < n; ++i)
    BOOST_REQUIRE_EQUAL(m.find(key(i))->second, static_cast<int>(i));
  map other;
  fill_until_growing(other);
  other.clear();
  BOOST_TEST(other.empty());
  BOOST_TEST(!other.growing());
  BOOST_TEST((other.find(key(0)) == other.end()));
}

BOOST_AUTO_TEST_CASE(a_const_map_finds_and_iterates_the_same) {
  map m;
  auto n = fill_until_growing(m);
  const auto& c = m;
  BOOST_TEST(static_cast<std::size_t>(std::distance(c.begin(), c.end())) == n);
  BOOST_TEST(c.find(key(0))->second == 0);
  BOOST_TEST((c.find(std::string{"absent"}) == c.end()));
  map::const_iterator i = m.find(key(1));
  BOOST_TEST(i->second == 1);
}

BOOST_AUTO_TEST_CASE(string_equal_tells_one_byte_apart_at_every_place_of_every_size) {
  // Sizes below, at and above each word it compares by (2, 4, 8, 16
  // bytes): a byte changed at any place, by its low or its high bit, is
  // told apart; a copy at another address is equal.
  bus::string_equal eq;
  auto all_told = true;
  for (std::size_t n = 0; n <= 40; ++n) {
    std::string x(n, 'k');
    for (std::size_t i = 0; i < n; ++i)
      x[i] = static_cast<char>('a' + i % 26);
    std::string copy = " " + x;
    all_told = all_told && eq(x, std::string_view{copy}.substr(1));
    for (std::size_t at = 0; at < n; ++at)
      for (char flip : {'\x01', '\x80'}) {
        auto y = x;
        y[at] = static_cast<char>(y[at] ^ flip);
        all_told = all_told && !eq(x, y) && !eq(y, x);
      }
  }
  BOOST_TEST(all_told);
}

BOOST_AUTO_TEST_CASE(string_equal_tells_keys_differing_anywhere_apart) {
  // It compares short keys in place and longer ones with memcmp: keys that
  // differ only in their first or last byte, or only in length, on both
  // sides of that bound. (A map compares keys only when their hashes meet,
  // so this asks string_equal itself.)
  bus::string_equal eq;
  std::vector<std::string> keys{"",
                                "a",
                                "b",
                                "ab",
                                "bb",
                                "aa",
                                "abcdefghijklmnop",
                                "bbcdefghijklmnop",
                                "abcdefghijklmnoq",
                                "abcdefghijklmnopq",
                                "abcdefghijklmnopr",
                                "bbcdefghijklmnopq",
                                "abcdefghijklmnopqrstuvwxyz0123456789"};
  for (std::size_t i = 0; i < keys.size(); ++i)
    for (std::size_t j = 0; j < keys.size(); ++j) {
      BOOST_TEST_CONTEXT(keys[i] << " against " << keys[j]) {
        BOOST_TEST(eq(keys[i], std::string_view{keys[j]}) == (i == j));
      }
    }
}

BOOST_AUTO_TEST_SUITE_END()
