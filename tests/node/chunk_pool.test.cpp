// Chunks of input come back to the reader's pool once the session drops
// them (apps/bus-node/chunk_pool.hpp): emptied, with their memory, from any
// thread, at most as many as the pool keeps, even after the pool is gone.

#include "chunk_pool.hpp"

#include <boost/test/unit_test.hpp>

#include <thread>

using bus::node::chunk_pool;
using bus::node::request;

BOOST_AUTO_TEST_SUITE(chunk_pool_suite)

BOOST_AUTO_TEST_CASE(a_dropped_chunk_comes_back_empty_with_its_memory) {
  chunk_pool pool{2, 100};
  auto chunk = pool.take();
  BOOST_TEST(chunk->empty());
  BOOST_TEST(chunk->capacity() >= 100u);
  chunk->emplace_back().text = "a request of the first chunk";
  auto* memory = chunk->data();
  auto copy = chunk; // the session's, say
  chunk.reset();
  BOOST_TEST(pool.spares() == 0u); // a copy is still out
  // Dropped on another thread, as the session does.
  std::thread{[c = std::move(copy)]() mutable { c.reset(); }}.join();
  BOOST_TEST(pool.spares() == 1u);
  auto again = pool.take();
  BOOST_TEST(pool.spares() == 0u);
  BOOST_TEST(again->empty());
  BOOST_TEST(again->data() == memory);
}

BOOST_AUTO_TEST_CASE(the_pool_keeps_at_most_its_spares) {
  chunk_pool pool{2, 10};
  {
    auto a = pool.take();
    auto b = pool.take();
    auto c = pool.take();
  }
  BOOST_TEST(pool.spares() == 2u);
}

BOOST_AUTO_TEST_CASE(a_chunk_may_outlive_its_pool) {
  bus::node::request_chunk chunk;
  {
    chunk_pool pool{2, 10};
    chunk = pool.take();
    chunk->emplace_back().text = "still here";
  }
  BOOST_TEST(chunk->front().text == "still here");
  chunk.reset(); // released into the pool's state, which goes with it
}

BOOST_AUTO_TEST_SUITE_END()
