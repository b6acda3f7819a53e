#include "bus/snapshot_store.hpp"

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <random>

#include <boost/json/serialize.hpp>

#include "bus/document_model.hpp"
#include "bus/errc.hpp"
#include "bus/index_model.hpp"
#include "bus/processed_ids.hpp"
#include "support/json_events.hpp"

using namespace bus;
using bus::test::make_event;

namespace {

struct scratch {
  std::filesystem::path dir;
  scratch() {
    std::random_device rd;
    dir = std::filesystem::temp_directory_path()
          / ("bus-snapshot-test-" + std::to_string(rd()));
    std::filesystem::create_directories(dir);
  }
  ~scratch() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(snapshot_store, scratch)

BOOST_AUTO_TEST_CASE(saved_snapshot_comes_back_after_reopening) {
  auto path = (dir / "snap.db").string();
  {
    auto store = bus::snapshot_store::open(path);
    BOOST_REQUIRE(store);
    bus::snapshot x{42, {44, 47}, "def", R"({"a": 1})"};
    BOOST_TEST(!(*store)->save("m", x));
    x.checkpoint = 50; // a later snapshot replaces the earlier one
    x.above = {};
    BOOST_TEST(!(*store)->save("m", x));
  }
  auto store = bus::snapshot_store::open(path);
  BOOST_REQUIRE(store);
  auto loaded = (*store)->load("m");
  BOOST_REQUIRE(loaded);
  BOOST_REQUIRE(loaded->has_value());
  BOOST_TEST((*loaded)->checkpoint == 50u);
  BOOST_TEST((*loaded)->above.empty());
  BOOST_TEST((*loaded)->definition == "def");
  BOOST_TEST((*loaded)->state == R"({"a": 1})");
  auto missing = (*store)->load("other");
  BOOST_REQUIRE(missing);
  BOOST_TEST(!missing->has_value());
}

BOOST_AUTO_TEST_CASE(unopenable_path_is_a_storage_error) {
  auto store = bus::snapshot_store::open((dir / "no" / "snap.db").string());
  BOOST_REQUIRE(!store);
  BOOST_TEST(code_of(store.error()) == errc::storage_failed);
}

BOOST_AUTO_TEST_CASE(declarative_models_restore_their_own_snapshots) {
  document_model_config dc{"docs", "id", {}, {"Set"}, {"Drop"}};
  document_model docs{dc};
  docs.apply(make_event("Set", R"({"id": "a", "x": 1})"));
  docs.apply(make_event("Set", R"({"id": "b", "y": [1, 2]})"));
  document_model copy{dc};
  BOOST_TEST(copy.restore(docs.snapshot()));
  BOOST_TEST(copy.snapshot() == docs.snapshot());
  // A restored model goes on like the original.
  for (auto* m : {&docs, &copy})
    m->apply(make_event("Drop", R"({"id": "a"})"));
  BOOST_TEST(copy.snapshot() == docs.snapshot());
  BOOST_TEST(!copy.restore(boost::json::value(42)));

  index_model_config ic{"by_email", "email", "id", {"Set"}, {"Drop"}};
  index_model index{ic};
  index.apply(make_event("Set", R"({"id": "u1", "email": "a@x"})"));
  index_model index_copy{ic};
  BOOST_TEST(index_copy.restore(index.snapshot()));
  // The restored index knows the primary's current value, too.
  index_copy.apply(make_event("Set", R"({"id": "u1", "email": "b@x"})"));
  BOOST_TEST(!index_copy.query("a@x"));
  BOOST_TEST(index_copy.query("b@x")->as_string() == "u1");
  // Another definition gives another fingerprint: its snapshot is not used.
  index_model_config other = ic;
  other.key = "phone";
  BOOST_TEST(index_model{other}.definition() != index.definition());
}

BOOST_AUTO_TEST_CASE(processed_ids_restore_the_watermark_and_the_sparse_seqs) {
  processed_ids ids;
  ids.restore(10, {12, 15, 9});
  BOOST_TEST(ids.watermark() == 10u);
  BOOST_TEST(ids.contains(9));
  BOOST_TEST(ids.contains(12));
  BOOST_TEST(!ids.contains(11));
  BOOST_TEST(ids.insert(11));
  BOOST_TEST(ids.watermark() == 12u); // 11 joined 12
  BOOST_TEST((ids.sparse() == std::vector<std::uint64_t>{15}));
}

BOOST_AUTO_TEST_SUITE_END()
