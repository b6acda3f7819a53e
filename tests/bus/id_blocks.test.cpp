// The durable log's id table (libbus/src/internal/id_blocks.hpp), on a
// SQLite database in memory.

#include "internal/id_blocks.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <sqlite3.h>

#include "bus/event_log.hpp"

using bus::internal::id_blocks;

namespace {

struct table_fixture {
  table_fixture() {
    sqlite3_open(":memory:", &db);
    sqlite3_exec(db, id_blocks::schema(), nullptr, nullptr, nullptr);
    table = std::make_unique<id_blocks>(db);
  }

  ~table_fixture() {
    table.reset();
    sqlite3_close(db);
  }

  /// Inserts `ids`, each at the seq of its place in `seqs`, in the order
  /// given (the table sorts them).
  void insert(const std::vector<std::string>& ids,
              const std::vector<std::uint64_t>& seqs) {
    std::vector<id_blocks::entry> group;
    for (std::size_t i = 0; i < ids.size(); ++i)
      group.emplace_back(ids[i], seqs[i]);
    table->insert(group);
  }

  std::string select(const char* sql) const {
    sqlite3_stmt* stmt = nullptr;
    std::string result = "<none>";
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK
        && sqlite3_step(stmt) == SQLITE_ROW)
      result = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    sqlite3_finalize(stmt);
    return result;
  }

  sqlite3* db = nullptr;
  std::unique_ptr<id_blocks> table;
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(id_blocks_suite, table_fixture)

BOOST_AUTO_TEST_CASE(an_empty_table_holds_nothing) {
  BOOST_TEST(table->find("e1") == 0u);
  BOOST_TEST(table->find("") == 0u);
  BOOST_TEST(table->count() == 0u);
}

BOOST_AUTO_TEST_CASE(ids_of_a_counter_fill_whole_blocks_across_sizes) {
  // e1 .. e999 in groups of 100: sizes 2, 3 and 4 bytes, each group after
  // the last.
  for (std::uint64_t first = 1; first < 1000; first += 100) {
    std::vector<std::string> ids;
    std::vector<std::uint64_t> seqs;
    for (auto i = first; i < std::min<std::uint64_t>(first + 100, 1000); ++i) {
      ids.push_back("e" + std::to_string(i));
      seqs.push_back(i);
    }
    insert(ids, seqs);
  }
  BOOST_TEST(table->count() == 999u);
  BOOST_TEST(select("SELECT count(*) FROM id_blocks") == "8");
  auto all_found = true;
  for (std::uint64_t i = 1; i < 1000; ++i)
    all_found = all_found && table->find("e" + std::to_string(i)) == i;
  BOOST_TEST(all_found);
  for (auto absent : {"e0", "e1000", "e", "d5", "f5", "e05", "e99x"})
    BOOST_TEST(table->find(absent) == 0u, absent);
}

BOOST_AUTO_TEST_CASE(random_ids_in_many_groups_split_blocks_evenly) {
  std::mt19937_64 random{3};
  std::vector<std::string> all;
  for (std::uint64_t seq = 1; seq <= 20000;) {
    std::vector<std::string> ids;
    std::vector<std::uint64_t> seqs;
    for (int i = 0; i < 250; ++i, ++seq) {
      ids.push_back(std::to_string(random() % 1000000007) + ":" + std::to_string(seq));
      seqs.push_back(seq);
    }
    insert(ids, seqs);
    all.insert(all.end(), ids.begin(), ids.end());
  }
  BOOST_TEST(table->count() == 20000u);
  auto blocks = std::stoi(select("SELECT count(*) FROM id_blocks"));
  BOOST_TEST(std::stoi(select("SELECT max(n) FROM id_blocks")) <= 128);
  // At least half full on average: 20,000 ids in fewer than 313 blocks.
  BOOST_TEST(blocks < 20000 / 64);
  auto all_found = true;
  for (std::size_t i = 0; i < all.size(); ++i)
    all_found = all_found && table->find(all[i]) == i + 1;
  BOOST_TEST(all_found);
  BOOST_TEST(table->find("1:0") == 0u);
}

BOOST_AUTO_TEST_CASE(long_ids_cut_blocks_by_bytes) {
  std::vector<std::string> ids;
  std::vector<std::uint64_t> seqs;
  for (std::uint64_t i = 1; i <= 300; ++i) {
    ids.push_back(std::string(500, 'x') + std::to_string(1000 + i));
    seqs.push_back(i);
  }
  insert(ids, seqs);
  // 500-byte ids, a block cut once past 4 KiB: 9 to a block, not 128.
  BOOST_TEST(std::stoi(select("SELECT max(n) FROM id_blocks")) <= 9);
  BOOST_TEST(std::stoi(select("SELECT max(length(ids)) FROM id_blocks")) <= 4600);
  BOOST_TEST(table->find(ids[150]) == 151u);
}

BOOST_AUTO_TEST_CASE(a_block_cut_short_fails_its_lookups) {
  insert({"a1", "a2", "a3", std::string(200, 'z')}, {1, 2, 300, 4});
  BOOST_TEST(table->find(std::string(200, 'z')) == 4u);
  BOOST_TEST(table->find(std::string(199, 'z')) == 0u);
  BOOST_TEST(table->find(std::string(201, 'z')) == 0u);
  // The seq of a3 (two bytes) loses its last byte, and what follows it.
  sqlite3_exec(db, "UPDATE id_blocks SET ids = substr(ids, 1, 12)", nullptr, nullptr,
               nullptr);
  BOOST_TEST(table->find("a1") == 1u);
  BOOST_CHECK_THROW(table->find("a3"), bus::storage_error);
  BOOST_CHECK_THROW(table->find("a4"), bus::storage_error);
}

BOOST_AUTO_TEST_CASE(an_id_indexed_twice_fails_the_insert) {
  insert({"a1", "a2", "a3"}, {1, 2, 3});
  BOOST_CHECK_THROW(insert({"a0", "a2"}, {4, 5}), bus::storage_error);
  BOOST_TEST(table->find("a2") == 2u);
}

BOOST_AUTO_TEST_SUITE_END()
