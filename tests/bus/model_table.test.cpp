#include "bus/model_table.hpp"

#include <boost/test/unit_test.hpp>

#include <mutex>
#include <random>
#include <thread>
#include <tuple>
#include <string>
#include <vector>

#include <boost/json/serialize.hpp>

#include "bus/document_model.hpp"
#include "bus/errc.hpp"
#include "bus/index_model.hpp"
#include "bus/parking_lot.hpp"
#include "support/model_table_sqlite.hpp"
#include "support/sqlite_scratch.hpp"
#include "support/user_documents.hpp"

using namespace bus;

BOOST_AUTO_TEST_SUITE(model_table)

using model_table_backends = std::tuple<bus::test::sqlite_models_db>;

#include "model_table_cases.hpp"

BOOST_AUTO_TEST_CASE(unusable_path_is_a_storage_error_naming_it) {
  auto table = bus::model_table::open("/nonexistent/dir/models.db", "users", "");
  BOOST_REQUIRE(!table);
  BOOST_TEST(code_of(table.error()) == errc::storage_failed);
  BOOST_TEST(context_of(table.error()).find("/nonexistent/dir/models.db")
             != std::string::npos);
}

// The projectors of a node's table models start together and each opens the
// new models database: the first to make it a WAL file must not make the
// others fail with "database is locked" (16 models: one failed now and then).
BOOST_AUTO_TEST_CASE(many_models_opening_one_new_file_at_once_all_open) {
  constexpr int rounds = 60;
  constexpr int models = 16;
  std::vector<std::string> failures;
  std::mutex guard;
  for (int round = 0; round < rounds; ++round) {
    bus::test::sqlite_scratch db{"bus-model-table-open-"};
    std::vector<std::thread> threads;
    for (int m = 0; m < models; ++m)
      threads.emplace_back([&, m] {
        auto name = "model-" + std::to_string(m);
        auto table = bus::model_table::open(db.path, name, "v1");
        if (!table) {
          std::lock_guard<std::mutex> lock{guard};
          failures.push_back(name + ": " + to_string(table.error()));
        }
      });
    for (auto& t : threads)
      t.join();
  }
  BOOST_TEST(failures.empty(), failures.size()
                                 << " opens failed; first: "
                                 << (failures.empty() ? "" : failures[0]));
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
