// The durable log's ids on disk and its bounded memory
// (libbus/include/bus/sqlite_log.hpp): the id table behind a filter, the
// tail kept in memory, and what survives reopening.

#include "bus/sqlite_log.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "bus/errc.hpp"
#include "support/sqlite_scratch.hpp"

using namespace bus;

namespace {

// A tail of 64 events: everything older is read from the disk.
constexpr std::size_t small_tail = 64;

struct store_fixture : bus::test::sqlite_scratch {
  store_fixture() : sqlite_scratch("bus-sqlite-ids-test-", "log.db") {
    // nop
  }

  std::shared_ptr<bus::sqlite_log>
  open(durability policy = durability::os_buffered,
       std::size_t index_every = bus::sqlite_log::default_index_every) {
    auto log = bus::sqlite_log::open(path, policy, small_tail, index_every);
    if (!log)
      BOOST_FAIL(context_of(log.error()));
    return *log;
  }

  /// The number of ids the id table holds.
  std::string indexed() const {
    return select("SELECT coalesce(sum(n), 0) FROM id_blocks");
  }

  /// Replaces the id table by the row-per-id table of layouts 4 and 5,
  /// holding e<i> at seq i + 1 for each i below `n`.
  void make_id_rows(std::size_t n) const {
    sql("DROP TABLE id_blocks;"
        "CREATE TABLE ids (size INTEGER NOT NULL, id TEXT NOT NULL,"
        " seq INTEGER NOT NULL, PRIMARY KEY (size, id)) WITHOUT ROWID;");
    std::string rows;
    for (std::size_t i = 0; i < n; ++i) {
      auto id = "e" + std::to_string(i);
      rows += (i == 0 ? "" : ",")
              + ("(" + std::to_string(id.size()) + ", '" + id + "', "
                 + std::to_string(i + 1) + ")");
    }
    if (n > 0)
      sql("INSERT INTO ids (size, id, seq) VALUES " + rows);
  }
};

event make(std::string id, std::int64_t n) {
  event e;
  e.id = std::move(id);
  e.type = "A";
  e.payload["n"] = n;
  return e;
}

std::vector<event> numbered(std::size_t first, std::size_t n) {
  std::vector<event> result;
  for (auto i = first; i < first + n; ++i)
    result.push_back(make("e" + std::to_string(i), static_cast<std::int64_t>(i)));
  return result;
}

// Appends e0 .. e999 (seqs 1 to 1000) in batches of 100.
void append_thousand(sqlite_log& log) {
  for (std::size_t i = 0; i < 1000; i += 100)
    log.append(numbered(i, 100));
}

// The seqs `log` reports for redeliveries of e<i> for each i, 0 for an
// event it appended instead.
std::vector<std::uint64_t> redeliver(sqlite_log& log, std::vector<std::size_t> is) {
  std::vector<event> batch;
  for (auto i : is)
    batch.push_back(make("e" + std::to_string(i), -1));
  std::vector<std::uint64_t> result;
  for (auto& outcome : log.append(std::move(batch)).outcomes)
    result.push_back(outcome.duplicate ? outcome.seq : 0);
  return result;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(sqlite_log_ids, store_fixture)

BOOST_AUTO_TEST_CASE(
  a_very_old_id_is_still_a_duplicate_after_many_events_and_reopening) {
  {
    auto log = open();
    for (std::size_t i = 0; i < 30000; i += 300)
      log->append(numbered(i, 300));
    // Far beyond the tail and the recent ids: the id table decides.
    BOOST_TEST(redeliver(*log, {0, 1, 15000, 29999})
               == (std::vector<std::uint64_t>{1, 2, 15001, 30000}));
    BOOST_TEST(log->head() == 30000u);
  }
  auto log = open();
  BOOST_TEST(log->head() == 30000u);
  BOOST_TEST(redeliver(*log, {0, 12345, 29999})
             == (std::vector<std::uint64_t>{1, 12346, 30000}));
  BOOST_TEST(log->append(numbered(30000, 1)).outcomes[0].seq == 30001u);
  BOOST_TEST(log->find("e20000").value_or(0) == 20001u);
  BOOST_TEST(!log->find("e30001"));
  // The original is what is read, not the redelivery.
  BOOST_TEST(log->read(1, 1).front().payload.at("n").as_int64() == 0);
}

BOOST_AUTO_TEST_CASE(ids_go_to_the_id_table_with_their_events_many_to_a_row) {
  auto log = open(durability::every(std::chrono::milliseconds{10}), 10);
  log->append(numbered(0, 10));
  BOOST_TEST(indexed() == "0"); // not synced yet
  log->sync();
  BOOST_TEST(indexed() == "10");
  BOOST_TEST(select("SELECT count(*) FROM id_blocks") == "1");
  BOOST_TEST(select("SELECT through FROM id_index") == "10");
  for (std::size_t i = 10; i < 1000; i += 10) {
    log->append(numbered(i, 10));
    log->sync();
  }
  // Ids that grow fill whole rows (128 ids), the last one filling up.
  BOOST_TEST(indexed() == "1000");
  BOOST_TEST(select("SELECT count(*) FROM id_blocks") == "8");
  BOOST_TEST(select("SELECT min(n) FROM (SELECT n FROM id_blocks ORDER BY first "
                    "LIMIT 7)")
             == "128");
}

BOOST_AUTO_TEST_CASE(ids_go_to_the_id_table_in_groups_and_stay_duplicates_meanwhile) {
  auto log = open(durability::os_buffered, 1000);
  for (std::size_t i = 0; i < 900; i += 30)
    log->append(numbered(i, 30));
  BOOST_TEST(indexed() == "0");
  BOOST_TEST(select("SELECT through FROM id_index") == "0");
  // Far older than the tail, and not on disk yet: still duplicates.
  BOOST_TEST(redeliver(*log, {0, 450, 899})
             == (std::vector<std::uint64_t>{1, 451, 900}));
  BOOST_TEST(log->find("e17").value_or(0) == 18u);
  for (std::size_t i = 900; i < 1200; i += 30)
    log->append(numbered(i, 30));
  // The sync that reached 1000 wrote them all at once.
  BOOST_TEST(indexed() == "1020");
  BOOST_TEST(select("SELECT through FROM id_index") == "1020");
  BOOST_TEST(redeliver(*log, {0, 1019, 1100, 1199})
             == (std::vector<std::uint64_t>{1, 1020, 1101, 1200}));
  BOOST_TEST(log->head() == 1200u);
}

BOOST_AUTO_TEST_CASE(ids_left_out_of_the_id_table_by_a_crash_are_indexed_on_open) {
  // The log indexes nothing when it goes: as after kill -9, the id table
  // lags behind the rows.
  {
    auto log = open(durability::os_buffered, 1000);
    for (std::size_t i = 0; i < 500; i += 50)
      log->append(numbered(i, 50));
  }
  BOOST_TEST(indexed() == "0");
  {
    auto log = open(durability::os_buffered, 1000);
    BOOST_TEST(indexed() == "500");
    BOOST_TEST(select("SELECT through FROM id_index") == "500");
    BOOST_TEST(redeliver(*log, {0, 250, 499, 500})
               == (std::vector<std::uint64_t>{1, 251, 500, 0}));
  }
  // The new event (seq 501) waits again; the next open indexes it.
  auto log = open();
  BOOST_TEST(indexed() == "501");
  BOOST_TEST(redeliver(*log, {500, 3}) == (std::vector<std::uint64_t>{501, 4}));
}

BOOST_AUTO_TEST_CASE(events_not_yet_written_stay_exact_duplicates_however_many) {
  // Under group commit, events wait in memory for the sync: far more of
  // them than the tail holds must still be found, and survive the sync.
  auto log = open(durability::every(std::chrono::milliseconds{10}));
  for (std::size_t i = 0; i < 2000; i += 20)
    log->append(numbered(i, 20));
  BOOST_TEST(log->durable_head() == 0u);
  BOOST_TEST(redeliver(*log, {0, 1000, 1999})
             == (std::vector<std::uint64_t>{1, 1001, 2000}));
  BOOST_TEST(log->read(1, 3).size() == 3u);
  log->sync();
  BOOST_TEST(redeliver(*log, {0, 1000}) == (std::vector<std::uint64_t>{1, 1001}));
  log.reset();
  BOOST_TEST(open()->head() == 2000u);
}

BOOST_AUTO_TEST_CASE(reads_older_than_the_tail_come_from_the_rows) {
  auto log = open();
  for (std::size_t i = 0; i < 5000; i += 50)
    log->append(numbered(i, 50));
  for (std::uint64_t from : {1u, 2000u, 4900u, 4936u, 4937u, 5000u}) {
    std::uint64_t next = from;
    auto in_order = true;
    for (auto batch = log->read(next, 100); !batch.empty();
         batch = log->read(next, 100))
      for (auto& e : batch) {
        in_order = in_order && e.seq == next
                   && e.payload.at("n").as_int64()
                        == static_cast<std::int64_t>(next - 1);
        ++next;
      }
    BOOST_TEST(in_order, "from " << from);
    BOOST_TEST(next == 5001u);
  }
}

BOOST_AUTO_TEST_CASE(an_id_lost_by_a_failed_sync_is_new_again) {
  // The filter saw the ids of the failed batch; it may only say "maybe":
  // the disk says they are new.
  auto log = open(durability::every(std::chrono::milliseconds{10}), 100);
  log->append(numbered(0, 200));
  log->sync();
  log->append(numbered(200, 100));
  sql("CREATE TRIGGER refuse BEFORE INSERT ON id_blocks "
      "BEGIN SELECT RAISE(ABORT, 'disk full'); END");
  BOOST_CHECK_THROW(log->sync(), storage_error);
  BOOST_TEST(log->head() == 200u);
  sql("DROP TRIGGER refuse");
  BOOST_TEST(redeliver(*log, {250, 0}) == (std::vector<std::uint64_t>{0, 1}));
  BOOST_TEST(log->head() == 201u);
  log->sync();
  BOOST_TEST(log->find("e150").value_or(0) == 151u);
  BOOST_TEST(log->find("e250").value_or(0) == 201u);
  for (std::size_t i = 300; i < 400; i += 10)
    log->append(numbered(i, 10));
  log->sync();
  // Only ids of events that are in the log, each once.
  BOOST_TEST(indexed() == "301");
  log.reset();
  BOOST_TEST(open()->find("e250").value_or(0) == 201u);
}

BOOST_AUTO_TEST_CASE(store_without_an_id_table_gets_one_on_open) {
  // Layout 2 (the previous release): ids only inside the rows.
  append_thousand(*open(durability::os_buffered, 1));
  sql("DROP TABLE id_blocks; PRAGMA user_version = 2;");
  auto log = open();
  BOOST_TEST(log->head() == 1000u);
  BOOST_TEST(indexed() == "1000");
  BOOST_TEST(select("PRAGMA user_version") == "6");
  BOOST_TEST(redeliver(*log, {0, 999, 1000})
             == (std::vector<std::uint64_t>{1, 1000, 0}));
}

BOOST_AUTO_TEST_CASE(store_whose_id_table_is_keyed_by_text_is_migrated_on_open) {
  // Layout 3 (the previous release): the id table keyed by the id alone.
  append_thousand(*open(durability::os_buffered, 1));
  sql("DROP TABLE id_blocks;"
      "CREATE TABLE ids (id TEXT PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID;"
      "PRAGMA user_version = 3;");
  {
    // The old table's rows, as the previous release wrote them.
    std::string rows;
    for (std::size_t i = 0; i < 1000; ++i)
      rows += (i == 0 ? "" : ",")
              + ("('e" + std::to_string(i) + "', " + std::to_string(i + 1) + ")");
    sql("INSERT INTO ids (id, seq) VALUES " + rows);
  }
  auto log = open();
  BOOST_TEST(log->head() == 1000u);
  BOOST_TEST(select("PRAGMA user_version") == "6");
  BOOST_TEST(indexed() == "1000");
  BOOST_TEST(select("SELECT count(*) FROM sqlite_master WHERE name IN ('ids', "
                    "'ids_by_text')")
             == "0");
  // Far beyond the tail: the migrated table answers, whatever the ids' sizes.
  BOOST_TEST(redeliver(*log, {0, 9, 10, 99, 100, 999, 1000})
             == (std::vector<std::uint64_t>{1, 10, 11, 100, 101, 1000, 0}));
  log->append(numbered(1001, 100));
  BOOST_TEST(log->head() == 1101u);
  log.reset();
  BOOST_TEST(redeliver(*open(), {5, 1050, 1000})
             == (std::vector<std::uint64_t>{6, 1051, 1001}));
}

BOOST_AUTO_TEST_CASE(ids_of_every_size_and_order_stay_unique_across_reopening) {
  // Ids of different sizes, in no order, in batches of more than one
  // statement of the id table.
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < 700; ++i)
    ids.push_back(std::string(1 + (i * 7919) % 23, 'a' + static_cast<char>(i % 26))
                  + std::to_string(i * 104729 % 1000));
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::shuffle(ids.begin(), ids.end(), std::mt19937{7});
  {
    auto log = open();
    std::vector<event> batch;
    for (auto& id : ids)
      batch.push_back(make(id, 1));
    auto appended = log->append(std::move(batch));
    BOOST_TEST(appended.appended.size() == ids.size());
  }
  auto log = open();
  std::vector<event> again;
  for (auto& id : ids)
    again.push_back(make(id, 2));
  auto outcomes = log->append(std::move(again)).outcomes;
  BOOST_TEST(log->head() == ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i)
    BOOST_TEST((outcomes[i].duplicate && outcomes[i].seq == i + 1), ids[i]);
}

BOOST_AUTO_TEST_CASE(store_of_layout_4_keeps_its_id_table_on_open) {
  // Layout 4 (the previous release): every id in the id table, no id_index.
  append_thousand(*open(durability::os_buffered, 1));
  make_id_rows(1000);
  sql("DROP TABLE id_index; PRAGMA user_version = 4;");
  auto log = open();
  BOOST_TEST(select("PRAGMA user_version") == "6");
  BOOST_TEST(select("SELECT through FROM id_index") == "1000");
  BOOST_TEST(indexed() == "1000");
  BOOST_TEST(redeliver(*log, {0, 999, 1000})
             == (std::vector<std::uint64_t>{1, 1000, 0}));
}

BOOST_AUTO_TEST_CASE(store_of_layout_5_moves_its_id_rows_to_blocks_on_open) {
  // Layout 5 (the previous release): a row per id, written in groups, so
  // that the last events' ids were not in the table yet.
  append_thousand(*open(durability::os_buffered, 1));
  make_id_rows(600);
  sql("UPDATE id_index SET through = 600; PRAGMA user_version = 5;");
  {
    auto log = open();
    BOOST_TEST(select("PRAGMA user_version") == "6");
    BOOST_TEST(select("SELECT count(*) FROM sqlite_master WHERE name = 'ids'") == "0");
    // The 400 ids the old table lacked were indexed on open.
    BOOST_TEST(select("SELECT through FROM id_index") == "1000");
    BOOST_TEST(indexed() == "1000");
    BOOST_TEST(redeliver(*log, {0, 599, 600, 999, 1000})
               == (std::vector<std::uint64_t>{1, 600, 601, 1000, 0}));
  }
  BOOST_TEST(redeliver(*open(), {1000, 5, 700})
             == (std::vector<std::uint64_t>{1001, 6, 701}));
}

BOOST_AUTO_TEST_CASE(store_whose_id_table_lacks_ids_is_refused_naming_the_file) {
  open(durability::os_buffered, 1)->append(numbered(0, 10));
  sql("DELETE FROM id_blocks");
  auto damaged = bus::sqlite_log::open(path);
  BOOST_REQUIRE(!damaged);
  BOOST_TEST(code_of(damaged.error()) == errc::storage_failed);
  BOOST_TEST(context_of(damaged.error()).find(path) != std::string::npos);
  BOOST_TEST(context_of(damaged.error()).find("id table") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(random_ids_in_many_groups_stay_found_and_rows_stay_full) {
  // Ids in no order (as random UUIDs come), indexed 50 at a time: each
  // group lands between ids indexed before, in rows that split.
  std::mt19937_64 random{11};
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < 6000; ++i)
    ids.push_back(std::to_string(random()) + "-" + std::to_string(i % 7));
  {
    auto log = open(durability::os_buffered, 50);
    for (std::size_t i = 0; i < ids.size(); i += 40) {
      std::vector<event> batch;
      for (auto j = i; j < std::min(ids.size(), i + 40); ++j)
        batch.push_back(make(ids[j], static_cast<std::int64_t>(j)));
      log->append(std::move(batch));
    }
  }
  BOOST_TEST(indexed() == "6000");
  // Rows split in halves when full: none holds more than 128 ids, and
  // on average they are far from empty.
  BOOST_TEST(std::stoi(select("SELECT max(n) FROM id_blocks")) <= 128);
  BOOST_TEST(std::stoi(select("SELECT count(*) FROM id_blocks")) < 6000 / 40);
  auto log = open();
  std::vector<event> again;
  for (auto& id : ids)
    again.push_back(make(id, -1));
  again.push_back(make("never-seen", -1));
  auto outcomes = log->append(std::move(again)).outcomes;
  auto all_found = true;
  for (std::size_t i = 0; i < ids.size(); ++i)
    all_found = all_found && outcomes[i].duplicate && outcomes[i].seq == i + 1;
  BOOST_TEST(all_found);
  BOOST_TEST(!outcomes.back().duplicate);
  BOOST_TEST(log->head() == 6001u);
}

BOOST_AUTO_TEST_CASE(a_corrupt_row_of_the_id_table_fails_the_lookup_not_the_process) {
  {
    auto log = open(durability::os_buffered, 1);
    for (std::size_t i = 0; i < 300; i += 100)
      log->append(numbered(i, 100));
  }
  // An id whose size runs past the end of its row.
  sql(
    "UPDATE id_blocks SET ids = x'ff01' WHERE first = (SELECT min(first) FROM id_blocks)");
  auto log = open();
  BOOST_CHECK_THROW(log->find("e5"), storage_error);
}

BOOST_AUTO_TEST_SUITE_END()
