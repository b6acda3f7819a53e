#include "bus/sqlite_log.hpp"

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <sqlite3.h>

#include "bus/errc.hpp"
#include "support/json_events.hpp"
#include "support/sqlite_scratch.hpp"

using namespace bus;
using bus::test::json;

namespace {

struct store_fixture {
  std::filesystem::path dir;
  std::string path;

  store_fixture() {
    std::random_device rd;
    dir = std::filesystem::temp_directory_path()
          / ("bus-sqlite-test-" + std::to_string(rd()));
    std::filesystem::create_directories(dir);
    path = (dir / "log.db").string();
  }

  ~store_fixture() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  std::shared_ptr<bus::sqlite_log>
  open(durability policy = durability::fsync_each_batch) {
    auto log = bus::sqlite_log::open(path, policy);
    if (!log)
      BOOST_FAIL(context_of(log.error()));
    return *log;
  }

  std::uint64_t head_in_file() const { return bus::test::head_in_file(path); }
};

event make(std::string id, std::string type, std::string_view payload) {
  auto e = bus::test::make_event(std::move(type), payload);
  e.id = std::move(id);
  return e;
}

std::vector<event> numbered(std::size_t first, std::size_t n) {
  std::vector<event> result;
  for (auto i = first; i < first + n; ++i)
    result.push_back(
      make("e" + std::to_string(i), "A", "{\"n\": " + std::to_string(i) + "}"));
  return result;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(sqlite_log, store_fixture)

BOOST_AUTO_TEST_CASE(appends_dense_seqs_and_reads_them_back_in_order) {
  auto log = open();
  auto result = log->append(numbered(0, 5));
  BOOST_TEST(log->head() == 5u);
  BOOST_TEST(result.appended.size() == 5u);
  auto batch = log->read(2, 3);
  BOOST_REQUIRE_EQUAL(batch.size(), 3u);
  BOOST_TEST(batch[0].seq == 2u);
  BOOST_TEST(batch[0].id == "e1");
  BOOST_TEST(batch[2].payload.at("n").as_int64() == 3);
  BOOST_TEST(log->read(6, 3).empty());
  BOOST_TEST(log->read(0, 3).empty());
  BOOST_TEST(log->read(4, 10).size() == 2u);
}

BOOST_AUTO_TEST_CASE(republished_id_appends_nothing_and_names_its_seq) {
  auto log = open();
  log->append(numbered(0, 3));
  auto again = numbered(1, 4);            // e1, e2 known; e3, e4 new
  again.push_back(make("e3", "A", "{}")); // and e3 twice in one batch
  auto result = log->append(again);
  BOOST_REQUIRE_EQUAL(result.outcomes.size(), 5u);
  BOOST_TEST(result.outcomes[0].duplicate);
  BOOST_TEST(result.outcomes[0].seq == 2u);
  BOOST_TEST(!result.outcomes[2].duplicate);
  BOOST_TEST(result.outcomes[2].seq == 4u);
  BOOST_TEST(result.outcomes[4].duplicate);
  BOOST_TEST(result.outcomes[4].seq == 4u);
  BOOST_TEST(log->head() == 5u);
  BOOST_TEST(result.appended.size() == 2u);
  BOOST_TEST(*log->find("e4") == 5u);
  BOOST_TEST(!log->find("nope"));
}

BOOST_AUTO_TEST_CASE(reopening_gives_back_every_event_and_id) {
  {
    auto log = open();
    auto e = make("x", "UserCreated",
                  R"({"id": "user-1", "tags": ["a", "b"], "n": 1.5})");
    e.metadata = json(R"({"correlation": "c-9"})").as_object();
    e.schema_version = 3;
    e.timestamp = 42;
    log->append({e});
    log->append(numbered(0, 100));
  }
  auto log = open(durability::os_buffered);
  BOOST_TEST(log->head() == 101u);
  auto first = log->read(1, 1);
  BOOST_REQUIRE_EQUAL(first.size(), 1u);
  BOOST_TEST(first[0].id == "x");
  BOOST_TEST(first[0].type == "UserCreated");
  BOOST_TEST(first[0].payload
             == json(R"({"id": "user-1", "tags": ["a", "b"], "n": 1.5})").as_object());
  BOOST_TEST(first[0].metadata.at("correlation").as_string() == "c-9");
  BOOST_TEST(first[0].schema_version == 3u);
  BOOST_TEST(first[0].timestamp == 42);
  BOOST_TEST(*log->find("e99") == 101u);
  // Appending goes on from the stored head; known ids stay duplicates.
  auto result = log->append(numbered(99, 2));
  BOOST_TEST(result.outcomes[0].duplicate);
  BOOST_TEST(result.outcomes[1].seq == 102u);
}

BOOST_AUTO_TEST_CASE(derived_ids_are_settled_against_the_store) {
  {
    auto log = open();
    auto e = make("evt-1", "UserCreated", R"({"id": "user-1", "name": "A"})");
    e.id_derived = true;
    log->append({e});
  }
  auto log = open();
  auto same = make("evt-1", "UserCreated", R"({"name": "A", "id": "user-1"})");
  same.id_derived = true;
  auto other = make("evt-1", "UserUpdated", R"({"id": "user-1", "name": "B"})");
  other.id_derived = true;
  auto result = log->append({same, other});
  BOOST_TEST(result.outcomes[0].duplicate);
  BOOST_TEST(result.outcomes[0].seq == 1u);
  BOOST_TEST(!result.outcomes[1].duplicate);
  BOOST_TEST(result.outcomes[1].id.rfind("evt-1-", 0) == 0u);
  BOOST_TEST(result.outcomes[1].id.size() == std::string{"evt-1-"}.size() + 16);
}

BOOST_AUTO_TEST_CASE(unopenable_path_is_a_clear_error) {
  auto log = bus::sqlite_log::open((dir / "missing" / "log.db").string());
  BOOST_REQUIRE(!log);
  BOOST_TEST(code_of(log.error()) == errc::storage_failed);
  BOOST_TEST(context_of(log.error()).find("missing") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(corrupt_payload_is_reported_not_returned) {
  open()->append(numbered(0, 2));
  sqlite3* db = nullptr;
  BOOST_REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  // Both events share a row: overwrite the end of the second one's record
  // (its payload and metadata) with bytes that are no value.
  BOOST_REQUIRE(sqlite3_exec(db,
                             "UPDATE batches SET events = "
                             "substr(events, 1, length(events) - 3) || x'ffffff'",
                             nullptr, nullptr, nullptr)
                == SQLITE_OK);
  sqlite3_close(db);
  auto log = open();
  BOOST_TEST(log->read(1, 1).size() == 1u);
  BOOST_CHECK_THROW(log->read(1, 2), storage_error);
}

BOOST_AUTO_TEST_CASE(durability_names_parse_and_print) {
  BOOST_TEST((*parse_durability("fsync") == durability::fsync_each_batch));
  BOOST_TEST((*parse_durability("os") == durability::os_buffered));
  BOOST_TEST(to_string(durability::os_buffered) == "os");
  auto bad = parse_durability("never");
  BOOST_REQUIRE(!bad);
  BOOST_TEST(code_of(bad.error()) == errc::invalid_config);
}

BOOST_AUTO_TEST_CASE(interval_names_parse_and_print) {
  auto every_25 = parse_durability("interval:25");
  BOOST_REQUIRE(every_25);
  BOOST_TEST((*every_25 == durability::every(std::chrono::milliseconds{25})));
  BOOST_TEST(every_25->interval().count() == 25);
  BOOST_TEST(to_string(*every_25) == "interval:25");
  for (auto bad : {"interval:", "interval:0", "interval:-5", "interval:10ms",
                   "interval:60001", "interval"}) {
    auto parsed = parse_durability(bad);
    BOOST_TEST(!parsed, bad);
    if (!parsed)
      BOOST_TEST(context_of(parsed.error()).find("interval:N") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(interval_policy_holds_events_until_sync) {
  auto log = open(durability::every(std::chrono::milliseconds{10}));
  BOOST_TEST(log->sync_interval().count() == 10);
  auto result = log->append(numbered(0, 3));
  BOOST_TEST(result.appended.size() == 3u);
  BOOST_TEST(log->head() == 3u);
  BOOST_TEST(log->durable_head() == 0u);
  // Readable and unique before the sync, for the owner of the log...
  BOOST_TEST(log->read(2, 5).size() == 2u);
  BOOST_TEST(*log->find("e2") == 3u);
  BOOST_TEST(log->append(numbered(2, 1)).outcomes[0].duplicate);
  // ...but not in the file.
  BOOST_TEST(head_in_file() == 0u);
  log->sync();
  BOOST_TEST(log->durable_head() == 3u);
  BOOST_TEST(head_in_file() == 3u);
}

BOOST_AUTO_TEST_CASE(events_never_synced_are_gone_after_reopening) {
  {
    auto log = open(durability::every(std::chrono::milliseconds{10}));
    log->append(numbered(0, 3));
    log->sync();
    log->append(numbered(3, 2)); // never acknowledged
  }
  auto log = open();
  BOOST_TEST(log->head() == 3u);
  BOOST_TEST(!log->find("e3"));
  BOOST_TEST(log->append(numbered(3, 1)).outcomes[0].seq == 4u);
}

BOOST_AUTO_TEST_CASE(failed_sync_drops_the_unsynced_events_and_frees_their_ids) {
  auto log = open(durability::every(std::chrono::milliseconds{10}));
  log->append(numbered(0, 2));
  log->sync();
  log->append(numbered(2, 3));
  auto exec = [&](const char* sql) {
    sqlite3* db = nullptr;
    BOOST_REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    auto rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
    sqlite3_close(db);
    BOOST_REQUIRE(rc == SQLITE_OK);
  };
  exec("CREATE TRIGGER refuse BEFORE INSERT ON batches "
       "BEGIN SELECT RAISE(ABORT, 'disk full'); END");
  BOOST_CHECK_EXCEPTION(log->sync(), storage_error, [&](const storage_error& err) {
    return std::string{err.what()}.find(path) != std::string::npos;
  });
  BOOST_TEST(log->head() == 2u);
  BOOST_TEST(log->durable_head() == 2u);
  BOOST_TEST(!log->find("e3"));
  BOOST_TEST(log->read(3, 1).empty());
  exec("DROP TRIGGER refuse");
  auto again = log->append(numbered(2, 3));
  BOOST_TEST(!again.outcomes[0].duplicate);
  BOOST_TEST(again.outcomes[2].seq == 5u);
  log->sync();
  log.reset();
  BOOST_TEST(open()->head() == 5u);
}

BOOST_AUTO_TEST_CASE(failed_fsync_policy_append_acknowledges_nothing) {
  auto log = open();
  log->append(numbered(0, 2));
  sqlite3* db = nullptr;
  BOOST_REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  sqlite3_exec(db,
               "CREATE TRIGGER refuse BEFORE INSERT ON batches "
               "BEGIN SELECT RAISE(ABORT, 'disk full'); END",
               nullptr, nullptr, nullptr);
  sqlite3_close(db);
  BOOST_CHECK_THROW(log->append(numbered(2, 2)), storage_error);
  BOOST_TEST(log->head() == 2u);
  BOOST_TEST(!log->find("e2"));
}

BOOST_AUTO_TEST_CASE(reads_cross_row_boundaries) {
  // Batches of 7 under os: a row each. Then 1500 events in batches of 3,
  // synced together: stored in rows of hundreds.
  {
    auto log = open(durability::os_buffered);
    for (std::size_t i = 0; i < 140; i += 7)
      log->append(numbered(i, 7));
  }
  {
    auto log = open(durability::every(std::chrono::milliseconds{10}));
    for (std::size_t i = 140; i < 1640; i += 3)
      log->append(numbered(i, 3));
    log->sync();
  }
  auto log = open();
  BOOST_REQUIRE_EQUAL(log->head(), 1640u);
  for (std::uint64_t from : {1u, 5u, 7u, 8u, 130u, 139u, 140u, 141u, 600u, 652u, 653u,
                             1163u, 1639u, 1640u}) {
    for (std::size_t max : {1u, 3u, 8u, 600u, 5000u}) {
      auto batch = log->read(from, max);
      BOOST_TEST(batch.size() == std::min<std::size_t>(max, 1640 - from + 1));
      bool in_order = true;
      for (std::size_t i = 0; i < batch.size(); ++i) {
        auto n = from + i - 1; // event "e<n>" has seq n + 1
        in_order = in_order && batch[i].seq == from + i
                   && batch[i].id == "e" + std::to_string(n)
                   && batch[i].payload.at("n").as_int64()
                        == static_cast<std::int64_t>(n);
      }
      BOOST_TEST(in_order, "read(" << from << ", " << max << ")");
    }
  }
  std::size_t walked = 0;
  for_each_batch(
    *log, [&](const event_batch& b) { walked += b.size(); }, 1, 100);
  BOOST_TEST(walked == 1640u);
}

BOOST_AUTO_TEST_CASE(store_of_the_old_layout_is_migrated_on_open) {
  sqlite3* db = nullptr;
  BOOST_REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  auto rc = sqlite3_exec(db, R"sql(
    PRAGMA journal_mode=WAL;
    CREATE TABLE events (
      seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, type TEXT NOT NULL,
      payload TEXT NOT NULL, timestamp INTEGER NOT NULL,
      schema_version INTEGER NOT NULL, metadata TEXT NOT NULL,
      id_derived INTEGER NOT NULL);
    INSERT INTO events VALUES
      (1, 'a', 'UserCreated', '{"id": "u1", "n": 1.5}', 42, 2, '{"c": "x"}', 0),
      (2, 'evt-u1', 'UserUpdated', '{"id": "u1"}', 43, 1, '{}', 1);
  )sql",
                         nullptr, nullptr, nullptr);
  sqlite3_close(db);
  BOOST_REQUIRE(rc == SQLITE_OK);
  auto log = open();
  BOOST_TEST(log->head() == 2u);
  auto all = log->read(1, 10);
  BOOST_REQUIRE_EQUAL(all.size(), 2u);
  BOOST_TEST(all[0].payload == json(R"({"id": "u1", "n": 1.5})").as_object());
  BOOST_TEST(all[0].metadata.at("c").as_string() == "x");
  BOOST_TEST(all[0].timestamp == 42);
  BOOST_TEST(all[0].schema_version == 2u);
  BOOST_TEST(all[1].id_derived);
  BOOST_TEST(*log->find("evt-u1") == 2u);
  BOOST_TEST(log->append(numbered(0, 1)).outcomes[0].seq == 3u);
  // Migrated once: the old table is gone, the new layout reopens as is.
  log.reset();
  BOOST_TEST(open()->head() == 3u);
}

BOOST_AUTO_TEST_CASE(damaged_or_newer_stores_are_refused_naming_the_file) {
  open()->append(numbered(0, 5));
  open()->append(numbered(5, 5));
  auto exec = [&](const char* sql) {
    sqlite3* db = nullptr;
    BOOST_REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    auto rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
    sqlite3_close(db);
    BOOST_REQUIRE(rc == SQLITE_OK);
  };
  exec("DELETE FROM batches WHERE first_seq = 1"); // a gap at the start
  auto gap = bus::sqlite_log::open(path);
  BOOST_REQUIRE(!gap);
  BOOST_TEST(code_of(gap.error()) == errc::storage_failed);
  BOOST_TEST(context_of(gap.error()).find(path) != std::string::npos);
  BOOST_TEST(context_of(gap.error()).find("seq 1") != std::string::npos);
  exec("PRAGMA user_version = 9");
  auto newer = bus::sqlite_log::open(path);
  BOOST_REQUIRE(!newer);
  BOOST_TEST(context_of(newer.error()).find(path) != std::string::npos);
  BOOST_TEST(context_of(newer.error()).find("newer") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(ids_stay_unique_across_reopening_many_rows) {
  {
    auto log = open(durability::os_buffered);
    for (std::size_t i = 0; i < 3000; i += 100)
      log->append(numbered(i, 100));
  }
  auto log = open(durability::every(std::chrono::milliseconds{10}));
  BOOST_TEST(log->head() == 3000u);
  auto again = log->append(numbered(2950, 100)); // 50 known, 50 new
  for (std::size_t i = 0; i < 100; ++i) {
    BOOST_TEST(again.outcomes[i].duplicate == (i < 50));
    BOOST_TEST(again.outcomes[i].seq == 2951 + i);
  }
  BOOST_TEST(*log->find("e17") == 18u);
  BOOST_TEST(*log->find("e1234") == 1235u);
}

BOOST_AUTO_TEST_CASE(every_commit_is_timed_and_fsync_policy_fsyncs_each_one) {
  auto log = open(durability::fsync_each_batch);
  auto before = log->timings();
  BOOST_TEST(before.measured);
  for (std::size_t i = 0; i < 3; ++i)
    log->append(numbered(i * 10, 10));
  auto after = log->timings();
  BOOST_TEST(after.commit.count() == before.commit.count() + 3);
  // synchronous=FULL: each commit fsyncs the WAL at least once, timed by
  // the store's VFS.
  BOOST_TEST(after.fsync.count() >= before.fsync.count() + 3);
  BOOST_TEST(after.commit.sum_ns() > before.commit.sum_ns());
}

BOOST_AUTO_TEST_CASE(os_policy_commits_without_fsync) {
  auto log = open(durability::os_buffered);
  auto before = log->timings();
  for (std::size_t i = 0; i < 3; ++i)
    log->append(numbered(i * 10, 10));
  auto after = log->timings();
  BOOST_TEST(after.commit.count() == before.commit.count() + 3);
  BOOST_TEST(after.fsync.count() == before.fsync.count());
}

BOOST_AUTO_TEST_CASE(group_commit_times_one_commit_per_sync) {
  auto log = open(durability::every(std::chrono::milliseconds{10}));
  auto before = log->timings().commit.count();
  log->append(numbered(0, 10));
  log->append(numbered(10, 10));
  BOOST_TEST(log->timings().commit.count() == before);
  log->sync();
  BOOST_TEST(log->timings().commit.count() == before + 1);
}

BOOST_AUTO_TEST_SUITE_END()
