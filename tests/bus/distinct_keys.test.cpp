#include "bus/distinct_keys.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstddef>
#include <random>
#include <string>

using namespace bus;

namespace {

std::size_t off_by(std::size_t x, std::size_t y) {
  return x > y ? x - y : y - x;
}

} // namespace

BOOST_AUTO_TEST_SUITE(distinct_keys_suite)

BOOST_AUTO_TEST_CASE(estimates_the_keys_added_however_often_each_came) {
  // Within 5 % (three standard errors), or exactly for a handful.
  for (std::size_t keys :
       {1u, 2u, 5u, 40u, 300u, 4'000u, 20'000u, 100'000u, 1'000'000u}) {
    std::mt19937_64 rng{keys};
    distinct_keys x;
    for (std::size_t i = 0; i < keys; ++i)
      x.add("user-" + std::to_string(i));
    // As many again, each a key already added.
    for (std::size_t i = 0; i < std::min<std::size_t>(keys, 200'000); ++i)
      x.add("user-" + std::to_string(rng() % keys));
    auto tolerance = keys < 10 ? 0 : std::max<std::size_t>(1, keys * 5 / 100);
    BOOST_TEST(off_by(x.estimate(), keys) <= tolerance,
               keys << " keys: estimated " << x.estimate());
  }
}

BOOST_AUTO_TEST_CASE(clear_forgets_every_key) {
  distinct_keys x;
  BOOST_TEST(x.estimate() == 0u);
  for (int i = 0; i < 1000; ++i)
    x.add("k" + std::to_string(i));
  BOOST_TEST(x.estimate() > 900u);
  x.clear();
  BOOST_TEST(x.estimate() == 0u);
  x.add("k1");
  BOOST_TEST(x.estimate() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
