// bus::lifecycle_store on PostgreSQL (a postgresql:// location): what every
// node on the database sees of the pauses, and a lost session.

#include "bus/lifecycle_store.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "bus/errc.hpp"
#include "support/pg_scratch.hpp"

using namespace bus;

namespace {

using names = std::vector<std::string>;

std::unique_ptr<lifecycle_store> open_store(const std::string& uri) {
  auto opened = lifecycle_store::open(uri);
  if (!opened)
    BOOST_FAIL(context_of(opened.error()));
  return std::move(*opened);
}

names paused_in(lifecycle_store& store) {
  auto result = store.paused();
  if (!result)
    BOOST_FAIL(context_of(result.error()));
  return *result;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(lifecycle_store_postgres, bus::test::pg_scratch)

BOOST_AUTO_TEST_CASE(every_node_on_the_database_sees_the_same_pauses) {
  auto leader = open_store(uri);
  BOOST_TEST(paused_in(*leader).empty());
  BOOST_TEST(!leader->set_paused("b", true));
  BOOST_TEST(!leader->set_paused("a", true));
  BOOST_TEST(!leader->set_paused("a", true)); // paused again: still once
  // A standby opening the same database later sees them, in name order.
  auto standby = open_store(uri);
  BOOST_TEST(paused_in(*standby) == (names{"a", "b"}));
  BOOST_TEST(!standby->set_paused("b", false));
  BOOST_TEST(!standby->set_paused("nope", false)); // resuming a running model
  BOOST_TEST(paused_in(*leader) == (names{"a"}));
}

BOOST_AUTO_TEST_CASE(a_lost_session_is_made_again) {
  auto store = open_store(uri);
  BOOST_TEST(!store->set_paused("a", true));
  select("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
         "datname = current_database() AND pid <> pg_backend_pid()");
  // Its session is gone: the store reconnects and the pause is kept.
  auto err = store->set_paused("b", true);
  BOOST_TEST(!err, (err ? context_of(err) : ""));
  BOOST_TEST(paused_in(*store) == (names{"a", "b"}));
}

BOOST_AUTO_TEST_CASE(an_unreachable_database_is_a_storage_error_without_password) {
  auto opened = lifecycle_store::open(
    "postgresql://bob:secret@/nowhere?host=/nonexistent-dir");
  BOOST_REQUIRE(!opened);
  BOOST_TEST(code_of(opened.error()) == errc::storage_failed);
  auto text = context_of(opened.error());
  BOOST_TEST(text.find("nowhere") != std::string::npos, text);
  BOOST_TEST(text.find("secret") == std::string::npos, text);
}

BOOST_AUTO_TEST_SUITE_END()
