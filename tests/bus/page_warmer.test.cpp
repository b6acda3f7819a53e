// The page warmer (libbus/src/internal/page_warmer.hpp): a mapping handed
// to it is faulted in by its thread, not by the thread that uses it.

#include "internal/page_warmer.hpp"

#include <boost/test/unit_test.hpp>

#include <cstddef>

#include "page_faults.hpp"

using bus::internal::anonymous_mapping;

BOOST_AUTO_TEST_SUITE(page_warmer)

BOOST_AUTO_TEST_CASE(a_warm_mapping_costs_its_user_no_page_faults) {
  auto m = anonymous_mapping::create(8u << 20, anonymous_mapping::pages::huge);
  BOOST_REQUIRE(bus::internal::warm_in_background(m));
  bus::internal::wait_for_warm_pages();
  BOOST_REQUIRE(m->warm());
  auto* p = static_cast<char*>(m->data());
  auto before = bus::test::thread_page_faults();
  for (std::size_t at = 0; at < m->size(); at += 4096)
    p[at] = 1;
  auto faults = bus::test::thread_page_faults() - before;
#ifndef BUS_TEST_SHADOW_FAULTS
  BOOST_TEST(faults == 0);
#else
  // The sanitizer's shadow of the mapping faults in here (515 in one run).
  static_cast<void>(faults);
#endif
  // Still the zeros the kernel gave, besides what this thread wrote.
  BOOST_TEST(p[1] == 0);
  BOOST_TEST(p[4096] == 1);
}

BOOST_AUTO_TEST_CASE(a_mapping_is_not_warm_until_the_warmer_is_done) {
  auto m = anonymous_mapping::create(1u << 20, anonymous_mapping::pages::small);
  BOOST_TEST(!m->warm());
}

BOOST_AUTO_TEST_CASE(a_mapping_dropped_before_it_is_warmed_goes_away_quietly) {
  for (int i = 0; i < 8; ++i)
    bus::internal::warm_in_background(
      anonymous_mapping::create(4u << 20, anonymous_mapping::pages::huge));
  auto kept = anonymous_mapping::create(1u << 20, anonymous_mapping::pages::small);
  bus::internal::warm_in_background(kept);
  bus::internal::wait_for_warm_pages();
  BOOST_TEST(kept->warm());
}

BOOST_AUTO_TEST_SUITE_END()
