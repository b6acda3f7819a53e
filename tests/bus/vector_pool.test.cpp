// Chunks come back to their pool once their last copy is gone
// (libbus/include/bus/vector_pool.hpp): emptied, with their memory, from
// any thread, at most as many as the pool keeps, even after the pool is
// gone. The tail cache and bus-node's reader take their chunks there.

#include "bus/vector_pool.hpp"

#include <boost/test/unit_test.hpp>

#include <memory>
#include <string>
#include <thread>

using bus::vector_pool;

namespace {

// Counts the live elements: a released chunk must destroy its own.
struct counted {
  static inline int live = 0;
  std::string text;
  explicit counted(std::string x) : text(std::move(x)) { ++live; }
  counted(counted&& other) noexcept : text(std::move(other.text)) { ++live; }
  counted(const counted&) = delete;
  counted& operator=(const counted&) = delete;
  ~counted() { --live; }
};

} // namespace

BOOST_AUTO_TEST_SUITE(vector_pool_suite)

BOOST_AUTO_TEST_CASE(a_dropped_chunk_comes_back_empty_with_its_memory) {
  vector_pool<counted> pool{2, 100};
  auto chunk = pool.take();
  BOOST_TEST(chunk->empty());
  BOOST_TEST(chunk->capacity() >= 100u);
  chunk->emplace_back("an element of the first chunk");
  BOOST_TEST(counted::live == 1);
  auto* memory = chunk->data();
  auto copy = chunk; // a reader's, say
  chunk.reset();
  BOOST_TEST(pool.spares() == 0u); // a copy is still out
  // Dropped on another thread, as a projector drops a view.
  std::thread{[c = std::move(copy)]() mutable { c.reset(); }}.join();
  BOOST_TEST(counted::live == 0);
  BOOST_TEST(pool.spares() == 1u);
  auto again = pool.take();
  BOOST_TEST(pool.spares() == 0u);
  BOOST_TEST(again->empty());
  BOOST_TEST(again->data() == memory);
}

BOOST_AUTO_TEST_CASE(a_spare_too_small_is_not_taken) {
  vector_pool<int> pool{2, 10};
  pool.take().reset();
  BOOST_TEST(pool.spares() == 1u);
  auto big = pool.take(1000);
  BOOST_TEST(big->capacity() >= 1000u);
  BOOST_TEST(pool.spares() == 1u);
}

BOOST_AUTO_TEST_CASE(the_pool_keeps_at_most_its_spares) {
  vector_pool<int> pool{2, 10};
  {
    auto a = pool.take();
    auto b = pool.take();
    auto c = pool.take();
  }
  BOOST_TEST(pool.spares() == 2u);
}

BOOST_AUTO_TEST_CASE(a_chunk_may_outlive_its_pool) {
  vector_pool<counted>::chunk chunk;
  {
    vector_pool<counted> pool{2, 10};
    chunk = pool.take();
    chunk->emplace_back("still here");
  }
  BOOST_TEST(chunk->front().text == "still here");
  chunk.reset(); // released into the pool's state, which goes with it
  BOOST_TEST(counted::live == 0);
}

BOOST_AUTO_TEST_SUITE_END()
