// The logs' bounded cache of their recent tail
// (libbus/src/internal/tail_cache.hpp).

#include "internal/tail_cache.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace {

bus::event numbered(std::uint64_t seq) {
  bus::event e;
  e.id = "e" + std::to_string(seq);
  e.type = "A";
  e.seq = seq;
  return e;
}

// Pushes the events [first, first + n) as one append.
void push(bus::internal::tail_cache& cache, std::uint64_t first, std::size_t n) {
  cache.prepare(first, n);
  for (auto seq = first; seq < first + n; ++seq)
    cache.push(numbered(seq));
}

std::vector<std::uint64_t> seqs_of(const bus::event_batch& batch) {
  std::vector<std::uint64_t> result;
  for (auto& e : batch)
    result.push_back(e.seq);
  return result;
}

} // namespace

BOOST_AUTO_TEST_SUITE(tail_cache)

BOOST_AUTO_TEST_CASE(appends_fill_one_chunk_and_a_read_spans_them) {
  bus::internal::tail_cache cache{100, 16};
  push(cache, 1, 3);
  push(cache, 4, 5);
  auto all = cache.read(1, 100);
  BOOST_TEST(seqs_of(all) == (std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6, 7, 8}));
  BOOST_TEST(seqs_of(cache.view(4, 8)) == (std::vector<std::uint64_t>{4, 5, 6, 7, 8}));
  BOOST_TEST(seqs_of(cache.read(7, 1)) == std::vector<std::uint64_t>{7});
  BOOST_TEST(cache.find(5)->id == "e5");
}

BOOST_AUTO_TEST_CASE(a_batch_larger_than_the_room_left_starts_a_chunk_of_its_own) {
  bus::internal::tail_cache cache{100, 16};
  push(cache, 1, 10);
  push(cache, 11, 40); // more than a chunk: one chunk of 40
  BOOST_TEST(cache.view(11, 50).size() == 40u);
  // A read stops at the end of the chunk holding its start.
  BOOST_TEST(seqs_of(cache.read(9, 100)) == (std::vector<std::uint64_t>{9, 10}));
}

BOOST_AUTO_TEST_CASE(
  keeps_at_least_its_capacity_and_evicts_whole_chunks_from_the_front) {
  bus::internal::tail_cache cache{40, 16};
  for (std::uint64_t seq = 1; seq <= 200; seq += 8) {
    push(cache, seq, 8);
    cache.evict(seq + 7);
  }
  // Between the capacity and the capacity plus a chunk.
  BOOST_TEST(cache.size() >= 40u);
  BOOST_TEST(cache.size() < 40u + 16u);
  BOOST_TEST(cache.last_seq() == 200u);
  BOOST_TEST(cache.first_seq() == 200u - cache.size() + 1);
  BOOST_TEST((cache.first_seq() - 1) % 16 == 0u); // a chunk's start
  // Reads beyond the cache find nothing: the log decodes them instead.
  BOOST_TEST(cache.find(1) == nullptr);
  BOOST_TEST(cache.read(1, 10).empty());
  BOOST_TEST(cache.read(cache.first_seq() - 1, 10).empty());
  BOOST_TEST(cache.find(cache.first_seq())->seq == cache.first_seq());
  BOOST_TEST(cache.find(201) == nullptr);
}

BOOST_AUTO_TEST_CASE(never_evicts_events_the_owner_has_not_written) {
  bus::internal::tail_cache cache{16, 16};
  for (std::uint64_t seq = 1; seq <= 160; seq += 16)
    push(cache, seq, 16);
  cache.evict(32); // only the first two chunks are on disk
  BOOST_TEST(cache.first_seq() == 33u);
  BOOST_TEST(cache.size() == 128u);
  cache.evict(160);
  BOOST_TEST(cache.first_seq() == 145u);
}

BOOST_AUTO_TEST_CASE(views_outlive_the_eviction_of_their_chunk) {
  bus::internal::tail_cache cache{16, 16};
  push(cache, 1, 16);
  auto held = cache.view(1, 16);
  push(cache, 17, 16);
  push(cache, 33, 16);
  cache.evict(48);
  BOOST_TEST(cache.find(1) == nullptr);
  BOOST_TEST(held.size() == 16u);
  BOOST_TEST(held.front().id == "e1");
  BOOST_TEST(held.back().id == "e16");
}

BOOST_AUTO_TEST_CASE(dropped_events_are_gone_and_later_ones_start_a_fresh_chunk) {
  bus::internal::tail_cache cache{100, 16};
  push(cache, 1, 6);
  auto held = cache.view(1, 6);
  cache.drop_above(3);
  BOOST_TEST(cache.last_seq() == 3u);
  BOOST_TEST(cache.size() == 3u);
  BOOST_TEST(cache.find(4) == nullptr);
  BOOST_TEST(held.back().id == "e6"); // a view of them stays valid
  // Seq 4 is given again, to another event: it must not meet the old one.
  cache.prepare(4, 2);
  for (std::uint64_t seq = 4; seq <= 5; ++seq) {
    auto e = numbered(seq);
    e.id = "again" + std::to_string(seq);
    cache.push(std::move(e));
  }
  BOOST_TEST(cache.find(4)->id == "again4");
  BOOST_TEST(held[3].id == "e4");
  BOOST_TEST(seqs_of(cache.read(1, 10)) == (std::vector<std::uint64_t>{1, 2, 3}));
  BOOST_TEST(seqs_of(cache.read(4, 10)) == (std::vector<std::uint64_t>{4, 5}));
  cache.drop_above(0);
  BOOST_TEST(cache.size() == 0u);
  BOOST_TEST(cache.first_seq() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
