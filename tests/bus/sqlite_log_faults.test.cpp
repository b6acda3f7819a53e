// The durable log under storage faults (a failing write, a failing fsync, a
// full disk), injected by a VFS: nothing acknowledged is lost, a failed
// store refuses appends until it is reopened, a full disk only refuses the
// batch that found it full.

#include "bus/sqlite_log.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "bus/errc.hpp"
#include "support/fault_vfs.hpp"
#include "support/json_events.hpp"
#include "support/sqlite_scratch.hpp"

using namespace bus;
using bus::test::fault_kind;

namespace {

struct faults_fixture {
  bus::test::sqlite_scratch scratch{"bus-log-faults-", "bus.db"};
  // Made before any store opens: every file then goes through it.
  bus::test::fault_vfs faults;

  std::shared_ptr<sqlite_log> open(durability policy = durability::fsync_each_batch) {
    auto log = sqlite_log::open(scratch.path, policy);
    if (!log)
      BOOST_FAIL(context_of(log.error()));
    return *log;
  }
};

std::vector<event> numbered(std::size_t first, std::size_t n) {
  std::vector<event> result;
  for (auto i = first; i < first + n; ++i) {
    auto e = bus::test::make_event("A", "{\"n\": " + std::to_string(i) + "}");
    e.id = "e" + std::to_string(i);
    result.push_back(std::move(e));
  }
  return result;
}

// The ids of the whole log, in seq order.
std::vector<std::string> ids_of(const event_log& log) {
  std::vector<std::string> result;
  for_each_batch(log, [&](const event_batch& batch) {
    for (auto& e : batch)
      result.push_back(e.id);
  });
  return result;
}

std::vector<std::string> expected_ids(std::size_t n) {
  std::vector<std::string> result;
  for (std::size_t i = 1; i <= n; ++i)
    result.push_back("e" + std::to_string(i));
  return result;
}

const char* name_of(fault_kind x) {
  switch (x) {
    case fault_kind::write_error:
      return "a failed write";
    case fault_kind::sync_error:
      return "a failed fsync";
    default:
      return "a full disk";
  }
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(sqlite_log_faults, faults_fixture)

// A failed write or fsync during a batch's commit: the batch is refused, the
// store fails and refuses every later append, even once the disk is well
// again, and a reopened store holds every acknowledged event and takes
// events again.
BOOST_AUTO_TEST_CASE(a_failed_write_or_fsync_fails_the_store_until_it_is_reopened) {
  for (auto kind : {fault_kind::write_error, fault_kind::sync_error}) {
    BOOST_TEST_CONTEXT(name_of(kind)) {
      std::filesystem::remove(scratch.path);
      std::filesystem::remove(scratch.path + "-wal");
      std::filesystem::remove(scratch.path + "-shm");
      {
        auto log = open();
        log->append(numbered(1, 10));
        faults.arm(kind, "-wal");
        BOOST_CHECK_THROW(log->append(numbered(11, 5)), storage_error);
        BOOST_REQUIRE_GT(faults.failed(), 0u);
        BOOST_TEST(log->head() == 10u);
        BOOST_TEST(log->health().state == store_state::failed);
        BOOST_TEST(!log->health().reason.empty());
        faults.disarm();
        try {
          log->append(numbered(16, 1));
          BOOST_FAIL("a failed store took an event");
        } catch (const storage_error& ex) {
          BOOST_TEST(std::string{ex.what()}.find("until it is reopened")
                     != std::string::npos);
        }
        BOOST_TEST(log->head() == 10u);
        // What was acknowledged is still read.
        BOOST_TEST(ids_of(*log) == expected_ids(10));
      }
      auto log = open();
      BOOST_TEST(log->health().state == store_state::healthy);
      BOOST_TEST(log->head() >= 10u);
      auto ids = ids_of(*log);
      // The refused batch may have reached the disk after all; it was never
      // acknowledged, and its ids are then deduplicated on a retry.
      ids.resize(10);
      BOOST_TEST(ids == expected_ids(10));
      auto retried = log->append(numbered(11, 6));
      BOOST_TEST(log->head() == 16u);
      BOOST_TEST(ids_of(*log) == expected_ids(16));
      (void) retried;
    }
  }
}

// A full disk refuses the batch that found it (rolled back whole) and leaves
// the store healthy: once there is room, the same events go in.
BOOST_AUTO_TEST_CASE(a_full_disk_refuses_the_batch_and_leaves_the_store_healthy) {
  auto log = open();
  log->append(numbered(1, 10));
  faults.arm(fault_kind::disk_full, "-wal");
  BOOST_CHECK_THROW(log->append(numbered(11, 5)), storage_error);
  BOOST_REQUIRE_GT(faults.failed(), 0u);
  BOOST_TEST(log->head() == 10u);
  BOOST_TEST(log->health().state == store_state::healthy);
  // Still full: refused again, nothing appended.
  BOOST_CHECK_THROW(log->append(numbered(11, 5)), storage_error);
  BOOST_TEST(log->head() == 10u);
  faults.disarm();
  auto result = log->append(numbered(11, 5));
  BOOST_TEST(result.appended.size() == 5u);
  BOOST_TEST(log->head() == 15u);
  log.reset();
  auto reopened = open();
  BOOST_TEST(ids_of(*reopened) == expected_ids(15));
}

// Under group commit the owner syncs: a failed fsync there drops the events
// not yet acknowledged and fails the store; the acknowledged ones survive.
BOOST_AUTO_TEST_CASE(a_failed_group_commit_loses_nothing_acknowledged) {
  {
    auto log = open(durability::every(std::chrono::milliseconds{10}));
    log->append(numbered(1, 10));
    log->sync();
    BOOST_TEST(log->durable_head() == 10u);
    log->append(numbered(11, 10));
    BOOST_TEST(log->durable_head() == 10u);
    faults.arm(fault_kind::sync_error, "-wal");
    BOOST_CHECK_THROW(log->sync(), storage_error);
    BOOST_REQUIRE_GT(faults.failed(), 0u);
    BOOST_TEST(log->head() == 10u);
    BOOST_TEST(log->durable_head() == 10u);
    BOOST_TEST(log->health().state == store_state::failed);
    faults.disarm();
    BOOST_CHECK_THROW(log->append(numbered(21, 1)), storage_error);
  }
  auto log = open();
  auto ids = ids_of(*log);
  BOOST_REQUIRE_GE(ids.size(), 10u);
  ids.resize(10);
  BOOST_TEST(ids == expected_ids(10));
}

BOOST_AUTO_TEST_SUITE_END()
