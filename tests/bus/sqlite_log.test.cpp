#include "bus/sqlite_log.hpp"

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <sqlite3.h>

#include "bus/errc.hpp"
#include "support/json_events.hpp"

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

  std::shared_ptr<bus::sqlite_log> open(durability policy = durability::fsync_each_batch) {
    auto log = bus::sqlite_log::open(path, policy);
    if (!log)
      BOOST_FAIL(context_of(log.error()));
    return *log;
  }
};

event make(std::string id, std::string type, std::string_view payload) {
  auto e = bus::test::make_event(std::move(type), payload);
  e.id = std::move(id);
  return e;
}

std::vector<event> numbered(std::size_t first, std::size_t n) {
  std::vector<event> result;
  for (auto i = first; i < first + n; ++i)
    result.push_back(make("e" + std::to_string(i), "A",
                          "{\"n\": " + std::to_string(i) + "}"));
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
  auto again = numbered(1, 4); // e1, e2 known; e3, e4 new
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
    auto e = make("x", "UserCreated", R"({"id": "user-1", "tags": ["a", "b"], "n": 1.5})");
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
  BOOST_TEST(first[0].payload == json(R"({"id": "user-1", "tags": ["a", "b"], "n": 1.5})").as_object());
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

BOOST_AUTO_TEST_SUITE_END()
