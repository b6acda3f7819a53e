// bus::lifecycle_store in a SQLite file: what a bus's directory keeps of
// the partitions of shared models survives reopening the file, a file made
// before those were kept opens and gets their table, and a damaged row is
// an error that names it, never a pause or a run.

#include "bus/lifecycle_store.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "bus/errc.hpp"
#include "support/sqlite_scratch.hpp"

using namespace bus;

namespace {

std::unique_ptr<lifecycle_store> open_lifecycle_file(const std::string& path) {
  auto opened = lifecycle_store::open(path);
  if (!opened)
    BOOST_FAIL(context_of(opened.error()));
  return std::move(*opened);
}

std::vector<kept_partition> partition_intents_in(const lifecycle_store& store) {
  auto result = store.partition_intents();
  if (!result)
    BOOST_FAIL(context_of(result.error()));
  return *result;
}

kept_partition kept_row(std::string model, std::uint32_t partition, kept_intent intent,
                        std::optional<std::uint64_t> frozen_at = std::nullopt) {
  kept_partition result;
  result.model = std::move(model);
  result.partition = partition;
  result.partitions = 6;
  result.intent = intent;
  result.frozen_at = frozen_at;
  return result;
}

// One line per row, to compare whole lists in one check.
std::string kept_rows_text(const std::vector<kept_partition>& xs) {
  std::string result;
  for (auto& x : xs)
    result += x.model + "#" + std::to_string(x.partition) + "/"
              + std::to_string(x.partitions) + " " + to_string(x.intent)
              + (x.frozen_at ? " at " + std::to_string(*x.frozen_at) : "") + "\n";
  return result;
}

// What reading the damaged rows of `scratch` says.
std::string partition_intents_error(const bus::test::sqlite_scratch& scratch) {
  auto store = open_lifecycle_file(scratch.path);
  auto read = store->partition_intents();
  BOOST_REQUIRE(!read);
  BOOST_TEST((code_of(read.error()) == errc::storage_failed));
  return context_of(read.error());
}

} // namespace

BOOST_AUTO_TEST_SUITE(lifecycle_store_sqlite)

BOOST_AUTO_TEST_CASE(partition_intents_survive_reopening_the_store) {
  bus::test::sqlite_scratch scratch{"bus-lifecycle-test-", "bus.lifecycle"};
  {
    auto store = open_lifecycle_file(scratch.path);
    BOOST_TEST(partition_intents_in(*store).empty());
    BOOST_TEST(
      !store->keep_partition_intent(kept_row("t", 3, kept_intent::pause, 412)));
    BOOST_TEST(!store->keep_partition_intent(kept_row("t", 1, kept_intent::run)));
    BOOST_TEST(!store->keep_partition_intent(kept_row("a", 0, kept_intent::pause)));
  }
  auto store = open_lifecycle_file(scratch.path);
  BOOST_TEST(kept_rows_text(partition_intents_in(*store))
             == "a#0/6 pause\nt#1/6 run\nt#3/6 pause at 412\n");
  // Kept again: replaced, and a run keeps no frozen point.
  BOOST_TEST(!store->keep_partition_intent(kept_row("t", 3, kept_intent::run, 412)));
  BOOST_TEST(kept_rows_text(partition_intents_in(*store))
             == "a#0/6 pause\nt#1/6 run\nt#3/6 run\n");
  BOOST_TEST(!store->forget_partition_intents("t"));
  BOOST_TEST(kept_rows_text(partition_intents_in(*store)) == "a#0/6 pause\n");
  // The paused models of the nodes' supervisors are another table.
  BOOST_TEST(store->pauses()->empty());
}

BOOST_AUTO_TEST_CASE(a_store_made_before_partition_intents_opens_and_gets_the_table) {
  bus::test::sqlite_scratch scratch{"bus-lifecycle-test-", "bus.lifecycle"};
  // The first layout: paused models only, without frozen_at.
  scratch.sql("CREATE TABLE paused_models (model TEXT PRIMARY KEY, paused_at "
              "INTEGER NOT NULL); INSERT INTO paused_models VALUES ('m', 1)");
  auto store = open_lifecycle_file(scratch.path);
  auto paused = store->paused();
  BOOST_REQUIRE(paused);
  BOOST_TEST(*paused == std::vector<std::string>{"m"});
  BOOST_TEST(partition_intents_in(*store).empty());
  BOOST_TEST(!store->keep_partition_intent(kept_row("t", 2, kept_intent::pause, 7)));
  BOOST_TEST(kept_rows_text(partition_intents_in(*store)) == "t#2/6 pause at 7\n");
}

BOOST_AUTO_TEST_CASE(an_unknown_intent_is_an_error_naming_its_row) {
  bus::test::sqlite_scratch scratch{"bus-lifecycle-test-", "bus.lifecycle"};
  open_lifecycle_file(scratch.path);
  scratch.sql("INSERT INTO partition_intents VALUES ('t', 3, 6, 'frobnicate', 9, 1)");
  auto text = partition_intents_error(scratch);
  for (auto part : {"partition 3 of read model 't'", "'frobnicate'",
                    "neither 'run' nor 'pause'", "delete the row"})
    BOOST_TEST(text.find(part) != std::string::npos, text);
  // The rest of the store still works.
  auto store = open_lifecycle_file(scratch.path);
  BOOST_TEST(!store->set_paused("m", true));
  BOOST_TEST(store->pauses()->size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_partition_out_of_its_count_is_an_error) {
  bus::test::sqlite_scratch scratch{"bus-lifecycle-test-", "bus.lifecycle"};
  open_lifecycle_file(scratch.path);
  scratch.sql("INSERT INTO partition_intents VALUES ('t', 6, 6, 'pause', NULL, 1)");
  auto text = partition_intents_error(scratch);
  BOOST_TEST(text.find("partition 6 of read model 't' is not one of its 6 "
                       "partitions")
               != std::string::npos,
             text);
}

BOOST_AUTO_TEST_CASE(a_value_of_the_wrong_type_is_an_error) {
  bus::test::sqlite_scratch scratch{"bus-lifecycle-test-", "bus.lifecycle"};
  open_lifecycle_file(scratch.path);
  scratch.sql("INSERT INTO partition_intents VALUES ('t', 'x', 6, 'pause', NULL, 1)");
  auto text = partition_intents_error(scratch);
  BOOST_TEST(text.find("read model 't' holds a value of the wrong type")
               != std::string::npos,
             text);
}

BOOST_AUTO_TEST_CASE(a_fence_on_a_sqlite_file_is_refused) {
  // Only a PostgreSQL database holds the lease a fence names.
  bus::test::sqlite_scratch scratch{"bus-lifecycle-test-", "bus.lifecycle"};
  auto opened = lifecycle_store::open(scratch.path, postgres_fence{"bus", 1});
  BOOST_REQUIRE(!opened);
  BOOST_TEST(code_of(opened.error()) == errc::invalid_config);
  auto text = context_of(opened.error());
  BOOST_TEST(text.find("holds only in a PostgreSQL database") != std::string::npos,
             text);
}

BOOST_AUTO_TEST_SUITE_END()
