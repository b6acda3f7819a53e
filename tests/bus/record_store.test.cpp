// The in-memory log's store of records (libbus/src/internal/record_store.hpp).

#include "internal/record_store.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <string>

using bus::internal::record_store;

namespace {

bus::event numbered(std::size_t i) {
  bus::event e;
  e.id = "e" + std::to_string(i);
  e.type = "UserUpdated";
  e.payload = boost::json::parse(R"({"id": "user-)" + std::to_string(i % 1000)
                                 + R"(", "email": "u)" + std::to_string(i)
                                 + R"(@example.org"})")
                .as_object();
  return e;
}

} // namespace

BOOST_AUTO_TEST_SUITE(record_store_suite)

// A block that took a byte more than a power of two took the allocator's
// next size class: 320 KiB of memory for 256 KiB of records in jemalloc.
BOOST_AUTO_TEST_CASE(blocks_take_exactly_their_size_from_the_allocator) {
  record_store store;
  std::size_t n = 0;
  while (store.block_count() < 4)
    store.append(numbered(++n));
  BOOST_TEST(store.size() == n);
  BOOST_TEST(store.block_allocation_bytes()
             == store.block_count() * record_store::block_bytes);
  BOOST_TEST(store.id(1) == "e1");
  BOOST_TEST(store.id(n) == "e" + std::to_string(n));
}

BOOST_AUTO_TEST_CASE(a_record_larger_than_a_block_gets_a_block_of_its_own) {
  record_store store;
  store.append(numbered(1));
  auto big = numbered(2);
  big.payload["blob"] = std::string(record_store::block_bytes, 'x');
  store.append(big);
  store.append(numbered(3));
  BOOST_TEST(store.block_count() == 3u);
  BOOST_TEST(store.block_allocation_bytes() > 3 * record_store::block_bytes);
  BOOST_TEST(store.id(2) == "e2");
  BOOST_TEST(store.id(3) == "e3");
}

BOOST_AUTO_TEST_SUITE_END()
