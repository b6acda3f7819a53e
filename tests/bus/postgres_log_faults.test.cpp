// The PostgreSQL log when things go wrong: its session killed mid-commit,
// the server restarted under it, and a lease that moved to another node.

#include "bus/postgres_log.hpp"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "bus/errc.hpp"
#include "support/json_events.hpp"
#include "support/pg_scratch.hpp"

using namespace bus;
using bus::test::pg_connection;

namespace {

struct faults_fixture : bus::test::pg_scratch {
  std::shared_ptr<postgres_log> open(postgres_options options = {}) {
    auto log = postgres_log::open(uri, durability::fsync_each_batch,
                                  std::move(options));
    if (!log)
      BOOST_FAIL(context_of(log.error()));
    return *log;
  }
};

std::vector<event> named(std::size_t first, std::size_t n) {
  std::vector<event> result;
  for (auto i = first; i < first + n; ++i) {
    auto e = bus::test::make_event("A", "{}");
    e.id = "e" + std::to_string(i);
    result.push_back(std::move(e));
  }
  return result;
}

postgres_options fenced_by(std::int64_t token) {
  postgres_options options;
  options.fence = postgres_fence{"main", token};
  return options;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(postgres_log_faults, faults_fixture)

BOOST_AUTO_TEST_CASE(session_killed_mid_commit_leaves_no_gap_and_reconnects) {
  auto log = open();
  log->append(named(0, 2));
  // Hold the commit inside its transaction: the id table is locked.
  pg_connection blocker{uri};
  blocker.sql("BEGIN");
  blocker.sql("LOCK TABLE bus_ids IN EXCLUSIVE MODE");
  std::string error;
  std::thread appender{[&] {
    try {
      log->append(named(2, 3));
    } catch (const storage_error& ex) {
      error = ex.what();
    }
  }};
  pg_connection admin{uri};
  std::string pid = "<none>";
  for (int i = 0; i < 200 && pid == "<none>"; ++i) {
    pid = admin.select("SELECT pid FROM pg_stat_activity WHERE datname = "
                       "current_database() AND wait_event_type = 'Lock' AND query "
                       "LIKE 'COPY bus_ids%'");
    if (pid == "<none>")
      std::this_thread::sleep_for(std::chrono::milliseconds{25});
  }
  if (pid != "<none>")
    admin.select("SELECT pg_terminate_backend(" + pid + ")");
  appender.join();
  blocker.sql("ROLLBACK");
  BOOST_REQUIRE_MESSAGE(pid != "<none>", "the commit never waited on the lock");
  BOOST_TEST(!error.empty());
  BOOST_TEST(log->health().state == store_state::failed);
  BOOST_TEST(!log->health().reason.empty());
  BOOST_TEST(log->head() == 2u);
  check_dense(2);
  // The next append reconnects; the seqs go on from the database's head.
  auto result = log->append(named(2, 3));
  BOOST_TEST(result.outcomes[0].seq == 3u);
  BOOST_TEST(log->health().state == store_state::healthy);
  check_dense(5);
}

BOOST_AUTO_TEST_CASE(session_lost_before_an_interval_commit_fails_that_commit) {
  auto log = postgres_log::open(uri, durability::every(std::chrono::milliseconds{50}));
  BOOST_REQUIRE(log);
  (*log)->append(named(0, 2));
  (*log)->sync();
  (*log)->append(named(2, 2)); // pending: in the session's memory only
  pg_connection admin{uri};
  admin.select("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
               "datname = current_database() AND pid <> pg_backend_pid()");
  // The next append reconnects; the pending events went with the session,
  // so the sync their publishers wait for must fail, not report them stored.
  (*log)->append(named(4, 1));
  BOOST_CHECK_THROW((*log)->sync(), storage_error);
  BOOST_TEST((*log)->head() == 2u);
  BOOST_TEST((*log)->durable_head() == 2u);
  BOOST_TEST(!(*log)->find("e2"));
  check_dense(2);
  // Published again, they are stored.
  (*log)->append(named(2, 3));
  (*log)->sync();
  BOOST_TEST((*log)->durable_head() == 5u);
  check_dense(5);
}

BOOST_AUTO_TEST_CASE(server_restarted_under_an_open_log_loses_nothing_acknowledged) {
  auto log = open();
  log->append(named(0, 3));
  cluster("stop");
  BOOST_CHECK_THROW(log->append(named(3, 2)), storage_error);
  BOOST_TEST(log->health().state == store_state::failed);
  BOOST_TEST_MESSAGE("while stopped: " << log->health().reason);
  // Still down: the reconnection fails too, and says so.
  BOOST_CHECK_THROW(log->append(named(3, 2)), storage_error);
  BOOST_TEST(log->head() == 3u);
  cluster("start");
  auto result = log->append(named(3, 2));
  BOOST_TEST(result.outcomes[0].seq == 4u);
  BOOST_TEST(!result.outcomes[0].duplicate);
  BOOST_TEST(log->health().state == store_state::healthy);
  auto reopened = open();
  BOOST_TEST(reopened->head() == 5u);
  BOOST_TEST(reopened->find("e0").value_or(0) == 1u);
  check_dense(5);
}

BOOST_AUTO_TEST_CASE(a_database_that_stays_down_is_tried_again_after_a_growing_wait) {
  using namespace std::chrono_literals;
  auto now = std::make_shared<std::chrono::steady_clock::time_point>();
  postgres_options options;
  options.reconnect_backoff = 100ms;
  options.reconnect_backoff_max = 150ms;
  options.clock = [now] { return *now; };
  auto opened = postgres_log::open(uri, durability::fsync_each_batch, options);
  BOOST_REQUIRE(opened);
  auto& log = *opened;
  log->append(named(0, 1));
  cluster("stop");
  BOOST_CHECK_THROW(log->append(named(1, 1)), storage_error); // the commit
  auto refusal = [&](std::size_t first) {
    try {
      log->append(named(first, 1));
    } catch (const storage_error& ex) {
      return std::string{ex.what()};
    }
    return std::string{"appended"};
  };
  // Tried, failed: the next try waits 100 ms, then 150 (the most).
  BOOST_TEST(refusal(1).find("next attempt in 100 ms") != std::string::npos);
  cluster("start");
  // Back, but the wait is not over: refused at once, without trying.
  *now += 60ms;
  auto early = refusal(1);
  BOOST_TEST(early.find("next attempt in 40 ms") != std::string::npos, early);
  *now += 40ms;
  BOOST_TEST(refusal(1) == "appended");
  BOOST_TEST(log->health().state == store_state::healthy);
  // Down again: the wait starts over at 100 ms, grows to 150 and stays.
  cluster("stop");
  BOOST_CHECK_THROW(log->append(named(2, 1)), storage_error);
  BOOST_TEST(refusal(2).find("next attempt in 100 ms") != std::string::npos);
  *now += 100ms;
  BOOST_TEST(refusal(2).find("next attempt in 150 ms") != std::string::npos);
  *now += 150ms;
  BOOST_TEST(refusal(2).find("next attempt in 150 ms") != std::string::npos);
  cluster("start");
  *now += 150ms;
  BOOST_TEST(refusal(2) == "appended");
  check_dense(3);
}

BOOST_AUTO_TEST_CASE(stale_fence_token_cannot_append) {
  auto leader = open(fenced_by(1));
  sql("INSERT INTO bus_leader (name, holder, token, expires_at) "
      "VALUES ('main', 'node-a', 1, now() + interval '1 hour')");
  leader->append(named(0, 2));
  // Another node takes the lease over.
  sql("UPDATE bus_leader SET holder = 'node-b', token = 2 WHERE name = 'main'");
  try {
    leader->append(named(2, 2));
    BOOST_FAIL("a writer with a stale token appended");
  } catch (const storage_error& ex) {
    std::string what = ex.what();
    BOOST_TEST(what.find("fenced: another bus node leads 'main'") != std::string::npos,
               what);
  }
  BOOST_TEST(leader->health().state == store_state::fenced);
  BOOST_TEST(leader->head() == 2u);
  check_dense(2);
  // The new leader appends from the database's head.
  auto successor = open(fenced_by(2));
  BOOST_TEST(successor->append(named(2, 2)).outcomes[0].seq == 3u);
  BOOST_CHECK_THROW(leader->append(named(9, 1)), storage_error);
  check_dense(4);
}

BOOST_AUTO_TEST_CASE(expired_lease_cannot_append_even_with_its_token) {
  auto leader = open(fenced_by(7));
  sql("INSERT INTO bus_leader (name, holder, token, expires_at) "
      "VALUES ('main', 'node-a', 7, now() - interval '1 second')");
  BOOST_CHECK_THROW(leader->append(named(0, 1)), storage_error);
  BOOST_TEST(leader->health().state == store_state::fenced);
  // Renewed: the same writer takes events again.
  sql("UPDATE bus_leader SET expires_at = now() + interval '1 hour'");
  BOOST_TEST(leader->append(named(0, 1)).outcomes[0].seq == 1u);
  BOOST_TEST(leader->health().state == store_state::healthy);
}

BOOST_AUTO_TEST_SUITE_END()
