#include "bus/model_table.hpp"

#include <boost/test/unit_test.hpp>

#include <random>
#include <tuple>
#include <string>
#include <vector>

#include <boost/json/serialize.hpp>

#include "bus/document_model.hpp"
#include "bus/errc.hpp"
#include "bus/index_model.hpp"
#include "support/model_table_sqlite.hpp"
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
