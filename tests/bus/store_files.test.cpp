// The files beside a SQLite store, checked when a node starts: a damaged
// one is named with what to do about it, and one that another process
// holds locked is in use, not damaged: the advice to move a damaged file
// aside would throw away good snapshots and pauses. A node that keeps
// these files without a log beside them (bus-projector --store) holds the
// store's lock, as an open log does.

#include "bus/store_files.hpp"

#include <boost/test/unit_test.hpp>

#include <fstream>
#include <string>

#include <sqlite3.h>

#include "bus/errc.hpp"
#include "support/scratch_dir.hpp"

using namespace bus;

namespace {

struct files_fixture {
  bus::test::scratch_dir scratch{"bus-store-files-"};
  std::string path = scratch.file("st.snapshots");

  // The text of the check's error, "" when it found the file usable.
  std::string refusal() {
    auto err = check_store_files({path});
    return err ? context_of(err) : std::string{};
  }
};

} // namespace

BOOST_AUTO_TEST_SUITE(store_files)

BOOST_FIXTURE_TEST_CASE(a_missing_file_and_a_database_are_usable, files_fixture) {
  BOOST_TEST(refusal() == "");
  sqlite3* db = nullptr;
  BOOST_REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  BOOST_REQUIRE(sqlite3_exec(db, "CREATE TABLE t(x)", nullptr, nullptr, nullptr)
                == SQLITE_OK);
  sqlite3_close(db);
  BOOST_TEST(refusal() == "");
}

BOOST_FIXTURE_TEST_CASE(a_file_that_is_no_database_is_named_with_what_to_do,
                        files_fixture) {
  {
    std::ofstream out{path};
    out << std::string(8192, 'x');
  }
  auto why = refusal();
  BOOST_TEST(why.find(path + " is not a usable SQLite database") != std::string::npos,
             why);
  BOOST_TEST(why.find("move it aside") != std::string::npos, why);
}

// As a node still running on the store holds it while it writes a snapshot
// (SQLite's locks are per process, and a second connection of this one
// meets them as another process would).
BOOST_FIXTURE_TEST_CASE(a_file_locked_by_another_writer_is_in_use_not_damaged,
                        files_fixture) {
  sqlite3* writer = nullptr;
  BOOST_REQUIRE(sqlite3_open(path.c_str(), &writer) == SQLITE_OK);
  BOOST_REQUIRE(sqlite3_exec(writer, "CREATE TABLE t(x); BEGIN EXCLUSIVE", nullptr,
                             nullptr, nullptr)
                == SQLITE_OK);
  auto why = refusal();
  sqlite3_close(writer);
  BOOST_TEST(why.find(path + " is in use by another process") != std::string::npos,
             why);
  BOOST_TEST(why.find("move it aside") == std::string::npos, why);
  BOOST_TEST(why.find("not a usable") == std::string::npos, why);
  // Once the writer is gone, the file is fine.
  BOOST_TEST(refusal() == "");
}

// A node keeping only the files beside a store (bus-projector --store)
// holds its lock as an open log does: a second holder is refused, in use.
BOOST_FIXTURE_TEST_CASE(a_second_lock_of_a_store_is_refused_until_the_first_goes,
                        files_fixture) {
  auto store = scratch.file("st");
  {
    auto first = store_files_lock::take(store);
    BOOST_REQUIRE(first);
    auto second = store_files_lock::take(store);
    BOOST_REQUIRE(!second);
    auto why = context_of(second.error());
    BOOST_TEST(why.find(store + ": the store is in use") != std::string::npos, why);
  }
  BOOST_TEST(static_cast<bool>(store_files_lock::take(store)));
}

BOOST_FIXTURE_TEST_CASE(a_store_under_a_missing_directory_is_named, files_fixture) {
  auto store = scratch.file("missing/st");
  auto locked = store_files_lock::take(store);
  BOOST_REQUIRE(!locked);
  auto why = context_of(locked.error());
  BOOST_TEST(why.find(store + ": cannot open the lock file " + store + ".lock")
               != std::string::npos,
             why);
}

BOOST_AUTO_TEST_SUITE_END()
