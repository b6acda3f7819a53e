// The arena of payloads made together: it takes their allocations while it
// is filled, none of its own once sealed (copies made by readers on other
// threads go to the heap), and it lives as long as a value using it.

#include "bus/event_arena.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

// A payload with allocations of its own: keys and strings too long to be
// kept inline, a nested array.
boost::json::object payload_in(const boost::json::storage_ptr& sp, int i) {
  auto s = std::to_string(i);
  return boost::json::parse(
           R"({"user_identifier": "user-)" + s
             + R"(-with-a-long-name", "tags": ["first-tag-of-the-user", ")" + s
             + R"("]})",
           sp)
    .as_object();
}

// `n` such payloads in `sp`.
std::vector<boost::json::object> payloads_in(const boost::json::storage_ptr& sp,
                                             int n) {
  std::vector<boost::json::object> result;
  for (int i = 0; i < n; ++i)
    result.push_back(payload_in(sp, i));
  return result;
}

} // namespace

BOOST_AUTO_TEST_SUITE(event_arena_suite)

BOOST_AUTO_TEST_CASE(filling_takes_allocations_from_its_blocks) {
  auto a = bus::event_arena::make(1024);
  BOOST_TEST(a.arena->block_bytes() == 0u);
  auto x = payload_in(a.storage, 1);
  BOOST_TEST(a.arena->block_bytes() >= 1024u);
  BOOST_TEST((a.arena->state() == bus::event_arena::phase::filling));
  // A request larger than the next block gets a block of its own.
  std::string big(100000, 'x');
  auto before = a.arena->block_bytes();
  boost::json::object y(a.storage);
  y["big"] = big;
  BOOST_TEST(a.arena->block_bytes() >= before + big.size());
  BOOST_TEST(y.at("big").as_string() == big);
  BOOST_TEST(boost::json::serialize(x) == boost::json::serialize(payload_in({}, 1)));
}

BOOST_AUTO_TEST_CASE(sealed_arena_gives_copies_heap_memory) {
  auto a = bus::event_arena::make();
  auto payloads = payloads_in(a.storage, 100);
  a.arena->seal();
  auto held = a.arena->block_bytes();
  // A copy uses the copied value's resource: the sealed arena hands it
  // heap memory, and its blocks do not grow.
  std::vector<boost::json::object> copies(payloads.begin(), payloads.end());
  copies[0]["added_after_the_seal"] = "a string longer than the inline buffer";
  BOOST_TEST(a.arena->block_bytes() == held);
  for (int i = 0; i < 100; ++i)
    BOOST_TEST(boost::json::serialize(copies[static_cast<std::size_t>(i)])
                 .find("user-" + std::to_string(i) + "-with")
               != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_copy_keeps_the_arena_alive_after_its_events_are_gone) {
  std::optional<boost::json::object> kept;
  {
    auto a = bus::event_arena::make();
    auto original = payload_in(a.storage, 7);
    a.arena->seal();
    kept.emplace(original);
  } // the arena's last owner besides the copy is gone
  BOOST_TEST(boost::json::serialize(*kept)
             == boost::json::serialize(payload_in({}, 7)));
  (*kept)["more"] = "grown after the arena's events are gone, on the heap";
  BOOST_TEST(kept->size() == 3u);
}

BOOST_AUTO_TEST_CASE(over_aligned_requests_are_aligned) {
  auto a = bus::event_arena::make();
  auto* r = a.storage.get();
  for (std::size_t align : {1u, 8u, 16u, 64u, 256u}) {
    BOOST_TEST_CONTEXT("align " << align) {
      auto* p = r->allocate(24, align);
      BOOST_TEST(reinterpret_cast<std::uintptr_t>(p) % align == 0u);
      r->deallocate(p, 24, align);
    }
  }
  a.arena->seal();
  auto* p = r->allocate(24, 256);
  BOOST_TEST(reinterpret_cast<std::uintptr_t>(p) % 256 == 0u);
  r->deallocate(p, 24, 256);
}

BOOST_AUTO_TEST_SUITE_END()

// Threads with a hard time limit (the suite's CTest timeout).
BOOST_AUTO_TEST_SUITE(event_arena_multithread)

BOOST_AUTO_TEST_CASE(sealed_arena_takes_copies_from_two_threads_at_once) {
  auto a = bus::event_arena::make();
  auto payloads = payloads_in(a.storage, 500);
  a.arena->seal();
  auto copy_all = [&](std::vector<boost::json::object>& out) {
    for (int round = 0; round < 20; ++round)
      for (auto& p : payloads)
        out.push_back(p);
  };
  std::vector<boost::json::object> left;
  std::vector<boost::json::object> right;
  std::thread t1{[&] { copy_all(left); }};
  std::thread t2{[&] { copy_all(right); }};
  t1.join();
  t2.join();
  std::size_t wrong = 0;
  for (auto* copies : {&left, &right})
    for (std::size_t i = 0; i < copies->size(); ++i)
      if ((*copies)[i] != payloads[i % payloads.size()])
        ++wrong;
  BOOST_TEST(wrong == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
