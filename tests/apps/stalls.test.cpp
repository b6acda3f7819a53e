// bus-bench's reading of machine stalls (apps/bus-bench/stalls.hpp): the
// floor a batch meets at a random instant, and which batches a stall
// touched. Pure arithmetic on made-up runs.

#include "stalls.hpp"

#include <boost/test/unit_test.hpp>
#include <vector>

using bench::batch_sample;
using bench::stall;

BOOST_AUTO_TEST_SUITE(bench_stalls)

BOOST_AUTO_TEST_CASE(a_run_without_stalls_has_no_stall_left_and_keeps_every_batch) {
  std::vector<stall> none;
  BOOST_TEST(bench::stall_left_at(none, 1.0, 0.99) == 0.0);
  BOOST_TEST(bench::stalled_share(none, 1.0) == 0.0);
  std::vector<batch_sample> batches{{0.1, 500}, {0.2, 700}};
  BOOST_TEST(bench::latencies_clear_of(batches, none)
             == (std::vector<double>{500, 700}));
}

BOOST_AUTO_TEST_CASE(the_stall_left_at_p99_counts_time_not_samples) {
  // One 10 ms stall in half a second: 2% of the instants fall in it, and
  // the 1% that wait longest wait over 5 ms. A sleeper's p99 per sleep
  // would be 0: the stall is one sleep among thousands.
  std::vector<stall> one{{0.2, 10'000}};
  BOOST_TEST(bench::stalled_share(one, 0.5) == 0.02,
             boost::test_tools::tolerance(1e-9));
  BOOST_TEST(bench::stall_left_at(one, 0.5, 0.99) == 5'000.0,
             boost::test_tools::tolerance(1e-4));
  // In 2 s the same stall covers 0.5% of the instants: none left at p99.
  BOOST_TEST(bench::stall_left_at(one, 2.0, 0.99) == 0.0);
}

BOOST_AUTO_TEST_CASE(shorter_stalls_add_only_what_exceeds_the_answer) {
  // 10 ms and 4 ms in 0.5 s: with 5 ms left, only the longer stall still
  // has time over it (5 ms = 1% of the run), so the shorter adds nothing.
  std::vector<stall> two{{0.1, 10'000}, {0.3, 4'000}};
  BOOST_TEST(bench::stall_left_at(two, 0.5, 0.99) == 5'000.0,
             boost::test_tools::tolerance(1e-4));
  // Three 4 ms stalls in 0.5 s: 3 x (4 ms - x) = 5 ms at x = 2.33 ms.
  std::vector<stall> three{{0.1, 4'000}, {0.2, 4'000}, {0.3, 4'000}};
  BOOST_TEST(bench::stall_left_at(three, 0.5, 0.99) == 4'000.0 - 5'000.0 / 3,
             boost::test_tools::tolerance(1e-4));
}

BOOST_AUTO_TEST_CASE(
  a_batch_is_touched_by_a_stall_in_its_flight_or_in_the_drain_after_one) {
  std::vector<stall> one{{1.000, 4'000}}; // 1.000-1.004 s, drained by 1.008 s
  std::vector<batch_sample> batches{
    {0.990, 500},   // done at 0.9905: before the stall
    {0.999, 2'000}, // in flight when the stall began
    {1.002, 3'000}, // sent during it
    {1.006, 600},   // sent while its backlog drains
    {1.009, 700},   // after the drain
  };
  BOOST_TEST(bench::latencies_clear_of(batches, one)
             == (std::vector<double>{500, 700}));
}

BOOST_AUTO_TEST_CASE(a_kernel_threads_burst_touches_batches_but_is_no_floor) {
  // A kernel thread took a core for 20 ms: the batches around it waited,
  // but the machine ran on (the other core, the sleeper), so it adds
  // nothing to the floor.
  std::vector<stall> burst{{1.000, 20'000, bench::stall_kind::kernel_thread, 12'000}};
  BOOST_TEST(bench::stall_left_at(burst, 0.5, 0.99) == 0.0);
  BOOST_TEST(bench::stalled_share(burst, 0.5) == 0.0);
  std::vector<batch_sample> batches{{1.010, 900}, {1.050, 800}};
  BOOST_TEST(bench::latencies_clear_of(batches, burst) == (std::vector<double>{800}));
}

BOOST_AUTO_TEST_SUITE_END()
