#include "bus/seq_window.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdint>

BOOST_AUTO_TEST_SUITE(seq_window)

BOOST_AUTO_TEST_CASE(marks_only_seqs_after_its_start) {
  bus::seq_window w{100};
  BOOST_TEST(!w.covers(100));
  BOOST_TEST(w.covers(101));
  w.insert(100); // not covered: ignored
  w.insert(101);
  w.insert(250);
  BOOST_TEST(!w.contains(100));
  BOOST_TEST(w.contains(101));
  BOOST_TEST(!w.contains(102));
  BOOST_TEST(w.contains(250));
  BOOST_TEST(!w.contains(251));
  BOOST_TEST(!w.contains(100000));
}

BOOST_AUTO_TEST_CASE(forgetting_moves_the_start_and_frees_words) {
  bus::seq_window w;
  for (std::uint64_t s = 1; s <= 1000; s += 3)
    w.insert(s);
  auto before = w.memory_bytes();
  w.forget_through(640);
  BOOST_TEST(w.after() == 640u);
  BOOST_TEST(!w.covers(640));
  BOOST_TEST(!w.contains(637));
  BOOST_TEST(w.contains(643));
  BOOST_TEST(!w.contains(644));
  BOOST_TEST(w.contains(1000));
  BOOST_TEST(w.memory_bytes() < before);
  w.forget_through(10); // behind the start: nothing changes
  BOOST_TEST(w.after() == 640u);
  BOOST_TEST(w.contains(643));
}

BOOST_AUTO_TEST_CASE(a_seq_past_the_capacity_slides_the_window) {
  bus::seq_window w{0, 256}; // four words
  w.insert(5);
  w.insert(200);
  w.insert(300); // slides past seq 5's word
  BOOST_TEST(!w.covers(5));
  BOOST_TEST(!w.contains(5));
  BOOST_TEST(w.contains(200));
  BOOST_TEST(w.contains(300));
  BOOST_TEST(w.memory_bytes() <= 4 * sizeof(std::uint64_t));
  w.insert(100000); // far ahead: only it is left
  BOOST_TEST(!w.covers(300));
  BOOST_TEST(w.contains(100000));
  BOOST_TEST(w.memory_bytes() <= 4 * sizeof(std::uint64_t));
}

BOOST_AUTO_TEST_CASE(a_sealed_window_covers_nothing_past_its_seal) {
  bus::seq_window w{10};
  w.insert(11);
  w.insert(12);
  w.seal(12);
  BOOST_TEST(w.sealed());
  BOOST_TEST(w.sealed_through() == 12u);
  w.insert(13); // past the seal: ignored
  BOOST_TEST(w.contains(12));
  BOOST_TEST(!w.covers(13));
  BOOST_TEST(!w.contains(13));
  w.seal(20); // a seal never moves forward
  BOOST_TEST(w.sealed_through() == 12u);
}

BOOST_AUTO_TEST_SUITE_END()
