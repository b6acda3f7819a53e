#include "bus/model_table.hpp"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <random>
#include <tuple>
#include <string>
#include <thread>
#include <vector>

#include <boost/json/serialize.hpp>

#include "bus/document_model.hpp"
#include "bus/errc.hpp"
#include "bus/index_model.hpp"
#include "internal/model_table_backend.hpp"
#include "support/model_table_sqlite.hpp"
#include "support/user_documents.hpp"

using namespace bus;

BOOST_AUTO_TEST_SUITE(model_table)

using model_table_backends = std::tuple<bus::test::sqlite_models_db>;

#include "model_table_cases.hpp"

// Models kept in tables share one file, each on a connection of its own,
// and commit every batch: the projectors of a process take turns, where
// SQLite's busy handler could keep one waiting past its timeout while the
// others kept taking the lock (see snapshot_store's test of its writers).
// Here the timeout is a millisecond, so any wait on SQLite's lock would
// fail a commit.
BOOST_AUTO_TEST_CASE(models_in_tables_of_one_file_commit_in_turn) {
  bus::test::sqlite_models_db db;
  constexpr std::size_t models = 8;
  constexpr int commits = 30;
  // Opened one after the other (opening a file in WAL mode may wait
  // briefly for SQLite's own locks), then committed to at once.
  std::vector<std::unique_ptr<bus::model_table::backend>> tables;
  for (std::size_t m = 0; m < models; ++m) {
    auto table = internal::open_sqlite_model_table(
      db.location, "model-" + std::to_string(m), "{}", std::chrono::milliseconds{1});
    BOOST_REQUIRE(table);
    tables.push_back(std::move(*table));
  }
  std::mutex failures_guard;
  std::vector<std::string> failures;
  std::vector<std::thread> threads;
  for (std::size_t m = 0; m < models; ++m)
    threads.emplace_back([&, m] {
      for (int i = 1; i <= commits; ++i) {
        std::vector<bus::model_table::backend::row_write> rows;
        for (int k = 0; k < 50; ++k)
          rows.push_back(
            {"k" + std::to_string(k), "{\"n\":" + std::to_string(i) + "}"});
        if (auto err = tables[m]->commit(rows, {}, static_cast<std::uint64_t>(i), {})) {
          std::lock_guard<std::mutex> guard{failures_guard};
          failures.push_back("model-" + std::to_string(m) + ": commit "
                             + std::to_string(i) + ": " + to_string(err));
          return;
        }
      }
    });
  for (auto& t : threads)
    t.join();
  BOOST_REQUIRE_MESSAGE(failures.empty(), failures.size()
                                            << " models failed; first: "
                                            << (failures.empty() ? "" : failures[0]));
  for (auto& table : tables) {
    auto contents = table->load();
    BOOST_REQUIRE(contents);
    BOOST_TEST(contents->checkpoint == static_cast<std::uint64_t>(commits));
    BOOST_TEST(contents->rows.size() == 50u);
  }
}

BOOST_AUTO_TEST_CASE(unusable_path_is_a_storage_error_naming_it) {
  auto table = bus::model_table::open("/nonexistent/dir/models.db", "users", "");
  BOOST_REQUIRE(!table);
  BOOST_TEST(code_of(table.error()) == errc::storage_failed);
  BOOST_TEST(context_of(table.error()).find("/nonexistent/dir/models.db")
             != std::string::npos);
}

BOOST_AUTO_TEST_CASE(models_that_do_not_track_changes_say_so) {
  struct plain final : read_model {
    std::string name_ = "plain";
    std::vector<std::string> types_;
    const std::string& name() const noexcept override { return name_; }
    const std::vector<std::string>& event_types() const noexcept override {
      return types_;
    }
    bool apply(const event&) override { return true; }
    std::optional<boost::json::value> query(std::string_view) const override {
      return std::nullopt;
    }
    boost::json::value snapshot() const override { return nullptr; }
    void reset() override {}
  } m;
  BOOST_TEST(!m.track_changes());
}

BOOST_AUTO_TEST_SUITE_END()
