#include "bus/processed_ids.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdint>

BOOST_AUTO_TEST_SUITE(processed_ids)

BOOST_AUTO_TEST_CASE(fresh_set_contains_no_seq) {
  bus::processed_ids ids;
  BOOST_TEST(ids.watermark() == 0u);
  BOOST_TEST(!ids.contains(1));
  BOOST_TEST(!ids.contains(1000));
  BOOST_TEST(ids.sparse_count() == 0u);
  BOOST_TEST(ids.memory_bytes() == 0u);
}

BOOST_AUTO_TEST_CASE(in_order_inserts_advance_the_watermark) {
  bus::processed_ids ids;
  BOOST_TEST(ids.insert(1));
  BOOST_TEST(ids.insert(2));
  BOOST_TEST(ids.insert(3));
  BOOST_TEST(ids.watermark() == 3u);
  BOOST_TEST(ids.sparse_count() == 0u);
  BOOST_TEST(ids.contains(1));
  BOOST_TEST(ids.contains(3));
  BOOST_TEST(!ids.contains(4));
}

BOOST_AUTO_TEST_CASE(insert_of_a_covered_seq_returns_false) {
  bus::processed_ids ids;
  ids.insert(1);
  ids.insert(2);
  BOOST_TEST(!ids.insert(1));
  BOOST_TEST(!ids.insert(2));
  BOOST_TEST(ids.insert(7));
  BOOST_TEST(!ids.insert(7));
  ids.advance_to(20);
  BOOST_TEST(!ids.insert(15));
  BOOST_TEST(!ids.insert(20));
  BOOST_TEST(ids.insert(21));
  BOOST_TEST(ids.watermark() == 21u);
}

BOOST_AUTO_TEST_CASE(out_of_order_inserts_compact_into_the_watermark) {
  bus::processed_ids ids;
  BOOST_TEST(ids.insert(3));
  BOOST_TEST(ids.insert(5));
  BOOST_TEST(ids.insert(4));
  BOOST_TEST(ids.watermark() == 0u);
  BOOST_TEST(ids.sparse_count() == 3u);
  BOOST_TEST(ids.contains(4));
  BOOST_TEST(!ids.contains(2));
  BOOST_TEST(!ids.contains(6));
  BOOST_TEST(ids.insert(1));
  BOOST_TEST(ids.watermark() == 1u);
  BOOST_TEST(ids.sparse_count() == 3u);
  // Filling the gap joins 3..5 to the watermark.
  BOOST_TEST(ids.insert(2));
  BOOST_TEST(ids.watermark() == 5u);
  BOOST_TEST(ids.sparse_count() == 0u);
  BOOST_TEST(ids.memory_bytes() == 0u);
  BOOST_TEST(!ids.insert(4));
}

BOOST_AUTO_TEST_CASE(gap_keeps_seqs_above_it_sparse) {
  bus::processed_ids ids;
  ids.insert(1);
  ids.insert(3);
  ids.insert(4);
  ids.insert(6);
  BOOST_TEST(ids.watermark() == 1u);
  BOOST_TEST(ids.sparse_count() == 3u);
  ids.insert(2);
  BOOST_TEST(ids.watermark() == 4u);
  BOOST_TEST(ids.sparse_count() == 1u);
  BOOST_TEST(ids.contains(6));
  BOOST_TEST(!ids.contains(5));
}

BOOST_AUTO_TEST_CASE(advance_to_covers_every_seq_up_to_it) {
  bus::processed_ids ids;
  ids.advance_to(5);
  BOOST_TEST(ids.watermark() == 5u);
  for (std::uint64_t seq = 1; seq <= 5; ++seq)
    BOOST_TEST(ids.contains(seq));
  BOOST_TEST(!ids.contains(6));
}

BOOST_AUTO_TEST_CASE(advance_to_compacts_sparse_seqs) {
  bus::processed_ids ids;
  ids.insert(7);
  ids.insert(9);
  ids.insert(12);
  ids.advance_to(6);
  // 7 touches the new watermark and joins it.
  BOOST_TEST(ids.watermark() == 7u);
  BOOST_TEST(ids.sparse_count() == 2u);
  ids.advance_to(10);
  // 9 is covered and dropped; 12 stays above a gap.
  BOOST_TEST(ids.watermark() == 10u);
  BOOST_TEST(ids.sparse_count() == 1u);
  BOOST_TEST(ids.contains(12));
  BOOST_TEST(!ids.contains(11));
  ids.advance_to(20);
  BOOST_TEST(ids.watermark() == 20u);
  BOOST_TEST(ids.sparse_count() == 0u);
  BOOST_TEST(ids.memory_bytes() == 0u);
}

BOOST_AUTO_TEST_CASE(advance_to_never_moves_the_watermark_back) {
  bus::processed_ids ids;
  ids.advance_to(10);
  ids.advance_to(3);
  BOOST_TEST(ids.watermark() == 10u);
  BOOST_TEST(ids.contains(9));
}

BOOST_AUTO_TEST_CASE(memory_bytes_is_zero_after_a_million_in_order_inserts) {
  bus::processed_ids ids;
  bool all_new = true;
  for (std::uint64_t seq = 1; seq <= 1'000'000; ++seq)
    all_new = ids.insert(seq) && all_new;
  BOOST_TEST(all_new);
  BOOST_TEST(ids.watermark() == 1'000'000u);
  BOOST_TEST(ids.sparse_count() == 0u);
  BOOST_TEST(ids.memory_bytes() == 0u);
  BOOST_TEST(ids.contains(1));
  BOOST_TEST(ids.contains(500'000));
  BOOST_TEST(!ids.insert(999'999));
}

BOOST_AUTO_TEST_CASE(memory_bytes_grows_with_sparse_seqs) {
  bus::processed_ids ids;
  ids.insert(3);
  auto one = ids.memory_bytes();
  BOOST_TEST(one > 0u);
  ids.insert(5);
  BOOST_TEST(ids.memory_bytes() == 2 * one);
  ids.insert(1);
  ids.insert(2);
  BOOST_TEST(ids.memory_bytes() == one);
  ids.insert(4);
  BOOST_TEST(ids.memory_bytes() == 0u);
}

BOOST_AUTO_TEST_CASE(clear_forgets_everything) {
  bus::processed_ids ids;
  ids.insert(1);
  ids.insert(5);
  ids.clear();
  BOOST_TEST(ids.watermark() == 0u);
  BOOST_TEST(ids.sparse_count() == 0u);
  BOOST_TEST(!ids.contains(1));
  BOOST_TEST(!ids.contains(5));
  BOOST_TEST(ids.insert(1));
}

BOOST_AUTO_TEST_SUITE_END()
