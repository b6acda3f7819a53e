// bus::lifecycle_store on PostgreSQL (a postgresql:// location): what every
// node on the database sees of the pauses, a lost session, and the fence of
// a bus node whose lease moved to another.

#include "bus/lifecycle_store.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "bus/errc.hpp"
#include "bus/postgres_lease.hpp"
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

std::unique_ptr<lifecycle_store> open_fenced(const std::string& uri,
                                             std::int64_t token) {
  auto opened = lifecycle_store::open(uri, postgres_fence{"bus", token});
  if (!opened)
    BOOST_FAIL(context_of(opened.error()));
  return std::move(*opened);
}

// Takes the lease "bus" as node-a would, returning its token.
std::int64_t take_lease(const std::string& uri) {
  lease_options options;
  options.holder = "node-a";
  options.ttl = std::chrono::hours{1};
  auto lease = postgres_lease::connect(uri, options);
  if (!lease)
    BOOST_FAIL(context_of(lease.error()));
  auto token = (*lease)->try_acquire();
  if (!token || !*token)
    BOOST_FAIL("node-a could not take the lease");
  // The lease's session ends here; its row, unexpired, stays node-a's.
  return **token;
}

// Checks that `err` is the refusal of a write by the fence "bus".
void check_fenced(const caf::error& err, const lifecycle_store& store) {
  BOOST_REQUIRE_MESSAGE(err, "a store whose lease moved on wrote");
  BOOST_TEST(code_of(err) == errc::storage_failed);
  auto text = context_of(err);
  BOOST_TEST(text.find("fenced: another bus node leads 'bus'") != std::string::npos,
             text);
  BOOST_TEST(store.fenced());
}

kept_partition paused_partition(std::uint32_t partition) {
  kept_partition x;
  x.model = "t";
  x.partition = partition;
  x.partitions = 6;
  x.intent = kept_intent::pause;
  x.frozen_at = 412;
  return x;
}

std::size_t intents_in(lifecycle_store& store) {
  auto result = store.partition_intents();
  if (!result)
    BOOST_FAIL(context_of(result.error()));
  return result->size();
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

BOOST_AUTO_TEST_CASE(a_leader_whose_lease_moved_on_writes_nothing) {
  auto token = take_lease(uri);
  auto stale = open_fenced(uri, token);
  BOOST_TEST(!stale->set_paused("a", true));
  BOOST_TEST(!stale->keep_partition_intent(paused_partition(3)));
  BOOST_TEST(!stale->fenced());
  // Another node takes the lease over (node-a stalled past it, say).
  sql("UPDATE bus_leader SET holder = 'node-b', token = token + 1 WHERE name = 'bus'");
  // Every write of node-a is refused and leaves the rows as they were.
  check_fenced(stale->set_paused("b", true), *stale);
  check_fenced(stale->set_paused("a", false), *stale);
  check_fenced(stale->keep_partition_intent(paused_partition(4)), *stale);
  check_fenced(stale->forget_partition_intents("t"), *stale);
  BOOST_TEST(paused_in(*stale) == (names{"a"})); // reads go on
  BOOST_TEST(intents_in(*stale) == 1u);
  // The holder of the current token writes, and node-a still cannot.
  auto leader = open_fenced(uri, token + 1);
  BOOST_TEST(!leader->set_paused("b", true));
  BOOST_TEST(!leader->forget_partition_intents("t"));
  BOOST_TEST(!leader->fenced());
  check_fenced(stale->set_paused("c", true), *stale);
  BOOST_TEST(paused_in(*leader) == (names{"a", "b"}));
  BOOST_TEST(intents_in(*leader) == 0u);
  // A store without a fence is not checked.
  auto unfenced = open_store(uri);
  BOOST_TEST(!unfenced->set_paused("c", true));
  BOOST_TEST(!unfenced->fenced());
  BOOST_TEST(paused_in(*leader) == (names{"a", "b", "c"}));
}

BOOST_AUTO_TEST_CASE(an_expired_lease_writes_nothing_even_with_its_token) {
  auto token = take_lease(uri);
  auto store = open_fenced(uri, token);
  sql("UPDATE bus_leader SET expires_at = now() - interval '1 second'");
  check_fenced(store->set_paused("a", true), *store);
  BOOST_TEST(paused_in(*store).empty());
  // Renewed before another node took it: the same store writes again.
  sql("UPDATE bus_leader SET expires_at = now() + interval '1 hour'");
  BOOST_TEST(!store->set_paused("a", true));
  BOOST_TEST(!store->fenced());
  BOOST_TEST(paused_in(*store) == (names{"a"}));
}

BOOST_AUTO_TEST_CASE(a_fenced_store_makes_the_lease_table_it_checks) {
  // No lease was ever taken in this database: nobody leads, so every write
  // is refused (rather than failing on a missing table).
  auto store = open_fenced(uri, 1);
  check_fenced(store->set_paused("a", true), *store);
  BOOST_TEST(paused_in(*store).empty());
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
