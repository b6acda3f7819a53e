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

BOOST_AUTO_TEST_CASE(a_standby_reads_the_partition_intents_the_leader_kept) {
  auto leader = open_store(uri);
  kept_partition paused;
  paused.model = "t";
  paused.partition = 3;
  paused.partitions = 6;
  paused.intent = kept_intent::pause;
  paused.frozen_at = 412;
  BOOST_TEST(!leader->keep_partition_intent(paused));
  auto running = paused;
  running.partition = 1;
  running.intent = kept_intent::run;
  BOOST_TEST(!leader->keep_partition_intent(running)); // keeps no frozen point
  auto standby = open_store(uri);
  auto kept = standby->partition_intents();
  BOOST_REQUIRE(kept);
  BOOST_REQUIRE(kept->size() == 2u);
  BOOST_TEST((*kept)[0].partition == 1u);
  BOOST_TEST(((*kept)[0].intent == kept_intent::run));
  BOOST_TEST(!(*kept)[0].frozen_at);
  BOOST_TEST((*kept)[1].partition == 3u);
  BOOST_TEST((*kept)[1].partitions == 6u);
  BOOST_TEST(((*kept)[1].intent == kept_intent::pause));
  BOOST_TEST(((*kept)[1].frozen_at == std::optional<std::uint64_t>{412}));
  BOOST_TEST(!standby->forget_partition_intents("t"));
  BOOST_TEST(leader->partition_intents()->empty());
  // A damaged row is an error naming it.
  sql("INSERT INTO bus_partition_intents VALUES ('t', 2, 6, 'frobnicate', NULL, 1)");
  auto damaged = leader->partition_intents();
  BOOST_REQUIRE(!damaged);
  auto text = context_of(damaged.error());
  BOOST_TEST(text.find("'frobnicate', neither 'run' nor 'pause'") != std::string::npos,
             text);
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
