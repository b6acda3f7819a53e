#include "bus/parking_lot.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "bus/errc.hpp"
#include "support/parked_seqs.hpp"

using namespace bus;

using bus::test::seq_list;
using bus::test::seqs;

namespace {

event make(std::uint64_t seq, const std::string& user) {
  event e;
  e.seq = seq;
  e.id = "e" + std::to_string(seq);
  e.type = "UserUpdated";
  e.payload["id"] = user;
  return e;
}

// A poison event: apply() threw on it `attempts` times.
parked_event failed(std::uint64_t seq, const std::string& user,
                    std::uint32_t attempts = 3) {
  parked_event x;
  x.event = make(seq, user);
  x.key = user;
  x.error = "boom at " + std::to_string(seq);
  x.attempts = attempts;
  x.parked_at = 1000 + static_cast<std::int64_t>(seq);
  return x;
}

} // namespace

BOOST_AUTO_TEST_SUITE(parking_lot)

BOOST_AUTO_TEST_CASE(a_parked_event_blocks_its_key_and_no_other) {
  bus::parking_lot lot;
  BOOST_TEST(!lot.blocks("u1"));
  BOOST_TEST(lot.park(failed(10, "u1")));
  BOOST_TEST(lot.blocks("u1"));
  BOOST_TEST(!lot.blocks("u2"));
  BOOST_TEST(lot.size() == 1u);
  BOOST_TEST(*lot.first_of("u1") == 10u);
  // A later event of u1 waits behind seq 10, never tried.
  BOOST_TEST(lot.park_behind(make(12, "u1"), "u1", 5000));
  auto* behind = lot.find(12);
  BOOST_REQUIRE(behind);
  BOOST_TEST((behind->reason == park_reason::behind));
  BOOST_TEST(behind->behind == 10u);
  BOOST_TEST(behind->attempts == 0u);
  BOOST_TEST(behind->error.empty());
  BOOST_TEST(behind->parked_at == 5000);
  // Nothing of u2 is parked: there is nothing to wait behind.
  BOOST_TEST(!lot.park_behind(make(13, "u2"), "u2", 5000));
  BOOST_TEST(lot.size() == 2u);
}

BOOST_AUTO_TEST_CASE(an_event_is_never_parked_twice) {
  bus::parking_lot lot;
  BOOST_TEST(lot.park(failed(10, "u1", 3)));
  BOOST_TEST(!lot.park(failed(10, "u1", 7)));
  BOOST_TEST(!lot.park_behind(make(10, "u1"), "u1", 0));
  BOOST_TEST(lot.size() == 1u);
  BOOST_TEST(lot.find(10)->attempts == 3u); // the first entry stays
}

BOOST_AUTO_TEST_CASE(without_key_order_nothing_is_blocked) {
  bus::parking_lot lot{key_order::none};
  BOOST_TEST(lot.park(failed(10, "u1")));
  BOOST_TEST(!lot.blocks("u1"));
  // Its key is still known, for listings.
  BOOST_TEST(*lot.find(10)->key == "u1");
  BOOST_TEST(lot.park(failed(11, "u1")));
  // One seq is taken alone: the other does not wait for it.
  auto taken = lot.take(11);
  BOOST_REQUIRE(taken);
  BOOST_TEST(seqs(*taken) == (seq_list{11}));
  BOOST_TEST(lot.size() == 1u);
}

BOOST_AUTO_TEST_CASE(events_without_a_key_block_nothing) {
  bus::parking_lot lot;
  auto x = failed(10, "u1");
  x.key.reset();
  BOOST_TEST(lot.park(x));
  BOOST_TEST(!lot.blocks("u1"));
  BOOST_TEST(!lot.blocks(""));
  auto taken = lot.take(10);
  BOOST_REQUIRE(taken);
  BOOST_TEST(seqs(*taken) == (seq_list{10}));
  BOOST_TEST(lot.empty());
}

BOOST_AUTO_TEST_CASE(an_empty_key_is_a_key) {
  bus::parking_lot lot;
  BOOST_TEST(lot.park(failed(10, "")));
  BOOST_TEST(lot.blocks(""));
}

BOOST_AUTO_TEST_CASE(list_is_in_seq_order_whatever_the_parking_order) {
  bus::parking_lot lot;
  // Restored entries and live ones interleave: the list sorts them.
  lot.park(failed(30, "u3"));
  lot.park(failed(10, "u1"));
  lot.park_behind(make(31, "u3"), "u3", 0);
  lot.park(failed(20, "u2"));
  BOOST_TEST(seqs(lot.list()) == (seq_list{10, 20, 30, 31}));
}

BOOST_AUTO_TEST_CASE(retrying_one_takes_the_events_parked_behind_it) {
  bus::parking_lot lot;
  lot.park(failed(10, "u1"));
  lot.park(failed(11, "u2"));
  lot.park_behind(make(12, "u1"), "u1", 0);
  lot.park_behind(make(14, "u1"), "u1", 0);
  auto taken = lot.take(10);
  BOOST_REQUIRE(taken);
  // In seq order, so that a fixed model applies u1 in order.
  BOOST_TEST(seqs(*taken) == (seq_list{10, 12, 14}));
  BOOST_TEST(!lot.blocks("u1"));
  BOOST_TEST(lot.blocks("u2"));
  BOOST_TEST(seqs(lot.list()) == (seq_list{11}));
}

BOOST_AUTO_TEST_CASE(an_event_waiting_behind_another_is_not_retried_first) {
  bus::parking_lot lot;
  lot.park(failed(10, "u1"));
  lot.park_behind(make(12, "u1"), "u1", 0);
  auto taken = lot.take(12);
  BOOST_REQUIRE(!taken);
  BOOST_TEST(code_of(taken.error()) == errc::precondition_failed);
  BOOST_TEST(context_of(taken.error())
             == "seq 12 waits behind seq 10 of key 'u1': retry or discard "
                "that one first");
  BOOST_TEST(lot.size() == 2u); // nothing taken
  auto missing = lot.take(99);
  BOOST_REQUIRE(!missing);
  BOOST_TEST(code_of(missing.error()) == errc::not_parked);
}

BOOST_AUTO_TEST_CASE(a_retry_that_fails_again_blocks_the_key_again) {
  bus::parking_lot lot;
  lot.park(failed(10, "u1"));
  lot.park_behind(make(12, "u1"), "u1", 0);
  lot.park(failed(11, "u2"));
  auto taken = lot.take_all();
  BOOST_TEST(seqs(taken) == (seq_list{10, 11, 12}));
  BOOST_TEST(lot.empty());
  BOOST_TEST(!lot.blocks("u1"));
  // The caller applies them in order, as it would live events: 10 fails
  // again and is parked again, 11 applies, 12 finds u1 blocked.
  auto again = taken[0];
  again.attempts += 3;
  again.error = "still broken";
  BOOST_TEST(lot.park(again));
  BOOST_TEST(!lot.blocks("u2"));
  BOOST_TEST(lot.blocks("u1"));
  BOOST_TEST(lot.park_behind(taken[2].event, "u1", 0));
  BOOST_TEST(seqs(lot.list()) == (seq_list{10, 12}));
  BOOST_TEST(lot.find(10)->attempts == 6u);
}

BOOST_AUTO_TEST_CASE(discard_drops_one_and_leaves_the_ones_behind_it) {
  bus::parking_lot lot;
  lot.park(failed(10, "u1"));
  lot.park_behind(make(12, "u1"), "u1", 0);
  auto dropped = lot.discard(10);
  BOOST_REQUIRE(dropped);
  BOOST_TEST(dropped->seq() == 10u);
  BOOST_TEST(dropped->error == "boom at 10");
  // 12 was never applied either: u1 stays blocked until it is retried.
  BOOST_TEST(lot.blocks("u1"));
  BOOST_TEST(*lot.first_of("u1") == 12u);
  auto taken = lot.take(12);
  BOOST_REQUIRE(taken);
  BOOST_TEST(seqs(*taken) == (seq_list{12}));
  auto again = lot.discard(10);
  BOOST_REQUIRE(!again);
  BOOST_TEST(code_of(again.error()) == errc::not_parked);
}

BOOST_AUTO_TEST_CASE(discard_all_empties_the_lot) {
  bus::parking_lot lot;
  lot.park(failed(10, "u1"));
  lot.park_behind(make(12, "u1"), "u1", 0);
  lot.park(failed(11, "u2"));
  BOOST_TEST(lot.discard_all() == 3u);
  BOOST_TEST(lot.empty());
  BOOST_TEST(!lot.blocks("u1"));
  BOOST_TEST(lot.discard_all() == 0u);
}

BOOST_AUTO_TEST_CASE(changes_name_every_seq_parked_or_removed) {
  bus::parking_lot lot;
  lot.park(failed(1, "u0")); // before tracking: not recorded
  lot.track_changes();
  lot.park(failed(10, "u1"));
  lot.park_behind(make(12, "u1"), "u1", 0);
  lot.park(failed(11, "u2"));
  BOOST_REQUIRE(lot.discard(11));
  std::vector<std::uint64_t> changes;
  lot.take_changes(changes);
  BOOST_TEST(changes == (seq_list{10, 12, 11, 11}));
  changes.clear();
  lot.take_changes(changes);
  BOOST_TEST(changes.empty());
  BOOST_REQUIRE(lot.take(10));
  lot.take_changes(changes);
  BOOST_TEST(changes == (seq_list{10, 12}));
  // A restore is what a store holds already: nothing to write back.
  lot.restore({failed(40, "u4"), failed(41, "u4")});
  changes.clear();
  lot.take_changes(changes);
  BOOST_TEST(changes.empty());
  BOOST_TEST(lot.blocks("u4"));
  lot.park(failed(50, "u5"));
  lot.clear();
  lot.take_changes(changes);
  BOOST_TEST(changes.empty());
  BOOST_TEST(lot.empty());
  BOOST_TEST(!lot.blocks("u4"));
}

BOOST_AUTO_TEST_CASE(restore_keeps_the_first_of_duplicate_seqs) {
  bus::parking_lot lot;
  lot.park(failed(5, "u0"));
  lot.restore({failed(10, "u1", 1), failed(10, "u1", 2), failed(9, "u1")});
  BOOST_TEST(seqs(lot.list()) == (seq_list{9, 10}));
  BOOST_TEST(lot.find(10)->attempts == 1u);
  BOOST_TEST(*lot.first_of("u1") == 9u);
}

BOOST_AUTO_TEST_SUITE_END()
