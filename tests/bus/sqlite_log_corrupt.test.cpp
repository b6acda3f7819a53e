// Stores that the fuzzer (tests/fuzz, store_files) or the hostile input
// found to break sqlite_log::open: each must be refused with an error
// naming the file, never a crash, a hang or an allocation as large as the
// number a damaged row claims.

#include "bus/sqlite_log.hpp"

#include <boost/test/unit_test.hpp>

#include "bus/errc.hpp"
#include "support/json_events.hpp"
#include "support/sqlite_scratch.hpp"

using namespace bus;

BOOST_AUTO_TEST_SUITE(sqlite_log_corrupt)

BOOST_AUTO_TEST_CASE(a_row_claiming_more_events_than_the_file_holds_is_refused) {
  // The head is what the last row claims; open() sized its id index by it
  // before checking a row: 2^62 looped for ever (the doubling overflowed),
  // 10^12 threw std::bad_alloc out of open().
  for (auto count :
       {"1000000000000", "4611686018427387904", "9223372036854775806", "-5"}) {
    BOOST_TEST_CONTEXT("count " << count) {
      bus::test::sqlite_scratch scratch{"bus-corrupt-log-", "log.db"};
      {
        auto log = sqlite_log::open(scratch.path);
        BOOST_REQUIRE(log);
        auto e = bus::test::make_event("A", R"({"n": 1})");
        e.id = "e1";
        (*log)->append({e});
      }
      scratch.sql(std::string{"UPDATE batches SET count = "} + count);
      auto reopened = sqlite_log::open(scratch.path);
      BOOST_REQUIRE(!reopened);
      BOOST_TEST(code_of(reopened.error()) == errc::storage_failed);
      BOOST_TEST(context_of(reopened.error()).find(scratch.path) != std::string::npos);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
