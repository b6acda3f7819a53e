// bus::hash_string: what the model tables (string_hash, which tells boost's
// flat tables it needs no second mix), the logs' id filters and the
// distinct-key counts rely on. Keys that differ hash apart, and the top
// and the low bits, which boost's tables use for a slot and its tag, are
// spread evenly.

#include <boost/test/unit_test.hpp>

#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <unordered_set>
#include <vector>

#include "bus/string_keys.hpp"

namespace {

// Keys as the node's models see them: user ids, e-mails, event ids.
std::vector<std::string> user_keys(std::size_t n) {
  std::vector<std::string> out;
  out.reserve(3 * n);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back("user-" + std::to_string(i));
    out.push_back("u" + std::to_string(i) + "-" + std::to_string(i % 7)
                  + "@example.org");
    out.push_back("e" + std::to_string(i + 1));
  }
  return out;
}

// The largest share of `counts` in one bucket, over the even share.
double worst_over_even(const std::vector<std::size_t>& counts, std::size_t total) {
  std::size_t worst = 0;
  for (auto c : counts)
    worst = std::max(worst, c);
  return static_cast<double>(worst) * static_cast<double>(counts.size())
         / static_cast<double>(total);
}

} // namespace

BOOST_AUTO_TEST_SUITE(string_hash_suite)

BOOST_AUTO_TEST_CASE(a_copy_hashes_alike_and_one_byte_changed_anywhere_hashes_apart) {
  // Sizes below, at and above each word it reads by (4, 8, 16 bytes, and
  // the 16-byte steps of a long key): a byte changed at any place, by its
  // low or its high bit, changes the hash; a copy at another address (so
  // read unaligned) hashes alike.
  std::size_t same_copy = 0;
  std::size_t collisions = 0;
  std::size_t tried = 0;
  for (std::size_t n = 0; n <= 70; ++n) {
    std::string x(n, 'k');
    for (std::size_t i = 0; i < n; ++i)
      x[i] = static_cast<char>('a' + i % 26);
    std::string copy = " " + x;
    auto h = bus::hash_string(x);
    same_copy += h == bus::hash_string(std::string_view{copy}.substr(1)) ? 1 : 0;
    for (std::size_t at = 0; at < n; ++at)
      for (char flip : {'\x01', '\x80'}) {
        auto y = x;
        y[at] = static_cast<char>(y[at] ^ flip);
        ++tried;
        collisions += bus::hash_string(y) == h ? 1 : 0;
      }
  }
  BOOST_TEST(same_copy == 71u);
  BOOST_TEST(tried > 4000u);
  BOOST_TEST(collisions == 0u);
}

BOOST_AUTO_TEST_CASE(keys_of_every_length_up_to_three_bytes_hash_apart) {
  // The shortest keys are read byte by byte: every key of 0 to 2 bytes, and
  // lengths told apart ("a" against "a\0").
  std::unordered_set<std::uint64_t> seen;
  std::size_t keys = 1;
  seen.insert(bus::hash_string(""));
  for (int a = 0; a < 256; ++a) {
    std::string one(1, static_cast<char>(a));
    seen.insert(bus::hash_string(one));
    ++keys;
    for (int b = 0; b < 256; ++b) {
      std::string two{static_cast<char>(a), static_cast<char>(b)};
      seen.insert(bus::hash_string(two));
      ++keys;
    }
  }
  BOOST_TEST(keys == 1u + 256u + 65536u);
  BOOST_TEST(seen.size() == keys);
}

BOOST_AUTO_TEST_CASE(similar_keys_spread_evenly_over_the_top_and_low_bits) {
  // 300,000 keys that differ in a few digits: no two share a hash, and
  // the buckets of the top 10 bits (a table's slot) and the low 8 (its
  // tag) are within 30 % of an even share.
  auto keys = user_keys(100000);
  std::unordered_set<std::uint64_t> hashes;
  std::vector<std::size_t> top(1024);
  std::vector<std::size_t> low(256);
  for (auto& k : keys) {
    auto h = bus::hash_string(k);
    hashes.insert(h);
    ++top[h >> 54];
    ++low[h & 0xff];
  }
  BOOST_TEST(hashes.size() == keys.size());
  BOOST_TEST(worst_over_even(top, keys.size()) < 1.3);
  BOOST_TEST(worst_over_even(low, keys.size()) < 1.3);
}

BOOST_AUTO_TEST_CASE(one_bit_flipped_flips_each_bit_of_the_hash_half_the_time) {
  // Avalanche: for random keys of 1 to 40 bytes, flipping any one bit of
  // the key flips each of the hash's 64 bits with a probability near 1/2
  // (string_hash tells boost's tables not to mix the hash again).
  std::mt19937_64 rng{7};
  std::array<std::size_t, 64> flips{};
  std::size_t trials = 0;
  for (int round = 0; round < 400; ++round) {
    auto n = 1 + rng() % 40;
    std::string key(n, '\0');
    for (auto& c : key)
      c = static_cast<char>(rng());
    auto h = bus::hash_string(key);
    for (std::size_t bit = 0; bit < 8 * n; ++bit) {
      auto other = key;
      other[bit / 8] = static_cast<char>(other[bit / 8] ^ (1 << (bit % 8)));
      auto diff = h ^ bus::hash_string(other);
      for (std::size_t b = 0; b < 64; ++b)
        flips[b] += (diff >> b) & 1;
      ++trials;
    }
  }
  double lowest = 1;
  double highest = 0;
  for (auto f : flips) {
    auto p = static_cast<double>(f) / static_cast<double>(trials);
    lowest = std::min(lowest, p);
    highest = std::max(highest, p);
  }
  BOOST_TEST(trials > 50000u);
  BOOST_TEST(lowest > 0.47);
  BOOST_TEST(highest < 0.53);
}

BOOST_AUTO_TEST_SUITE_END()
