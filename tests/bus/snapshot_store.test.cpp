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
#include "support/sqlite_scratch.hpp"

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

parked_event parked_at(std::uint64_t seq, std::string key) {
  parked_event x;
  x.event = make_event("UserUpdated", R"({"id": "u1"})");
  x.event.seq = seq;
  x.key = std::move(key);
  x.error = "boom";
  x.attempts = 3;
  x.parked_at = 1700000000000;
  return x;
}

std::vector<std::uint64_t> parked_seqs(const bus::snapshot& x) {
  std::vector<std::uint64_t> out;
  for (auto& p : x.parked)
    out.push_back(p.seq());
  return out;
}

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
  document_model_config dc{"docs", "id", {}, {"Set"}, {"Drop"}, {}};
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

BOOST_AUTO_TEST_CASE(parked_events_come_back_with_their_snapshot) {
  auto path = (dir / "snap.db").string();
  {
    auto store = bus::snapshot_store::open(path);
    BOOST_REQUIRE(store);
    bus::snapshot x{42, {}, "def", "{}"};
    x.parked = {parked_at(40, "u1"), parked_at(41, "u1")};
    x.parked[1].reason = park_reason::behind;
    x.parked[1].behind = 40;
    BOOST_TEST(!(*store)->save("m", x));
    BOOST_TEST(!(*store)->save("n", bus::snapshot{7, {}, "", "{}"}));
  }
  auto store = bus::snapshot_store::open(path);
  BOOST_REQUIRE(store);
  auto loaded = (*store)->load("m");
  BOOST_REQUIRE(loaded);
  BOOST_REQUIRE(loaded->has_value());
  BOOST_TEST(parked_seqs(**loaded) == (std::vector<std::uint64_t>{40, 41}));
  BOOST_TEST((*loaded)->parked[0].error == "boom");
  BOOST_TEST(*(*loaded)->parked[1].key == "u1");
  BOOST_TEST((*loaded)->parked[1].behind == 40u);
  auto other = (*store)->load("n");
  BOOST_REQUIRE(other);
  BOOST_TEST((*other)->parked.empty());
}

BOOST_AUTO_TEST_CASE(a_failed_save_leaves_the_previous_snapshot_and_parked_set) {
  bus::test::sqlite_scratch db{"bus-snapshot-parked-test-", "snap.db"};
  auto store = bus::snapshot_store::open(db.path);
  BOOST_REQUIRE(store);
  bus::snapshot x{10, {}, "def", R"({"a": 1})"};
  x.parked = {parked_at(9, "u1")};
  BOOST_REQUIRE(!(*store)->save("m", x));
  db.sql("CREATE TRIGGER fail_save BEFORE INSERT ON snapshots "
         "BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
  bus::snapshot y{20, {}, "def", R"({"a": 2})"};
  y.parked = {parked_at(15, "u2")}; // 9 retried, 15 parked
  auto err = (*store)->save("m", y);
  BOOST_REQUIRE(err);
  BOOST_TEST(code_of(err) == errc::storage_failed);
  auto loaded = (*store)->load("m");
  BOOST_REQUIRE(loaded);
  BOOST_TEST((*loaded)->checkpoint == 10u);
  BOOST_TEST((*loaded)->state == R"({"a": 1})");
  BOOST_TEST(parked_seqs(**loaded) == (std::vector<std::uint64_t>{9}));
}

BOOST_AUTO_TEST_CASE(a_file_written_before_parking_opens_and_gains_the_column) {
  bus::test::sqlite_scratch db{"bus-snapshot-parked-test-", "snap.db"};
  db.sql("CREATE TABLE snapshots (model TEXT PRIMARY KEY, "
         "checkpoint INTEGER NOT NULL, above TEXT NOT NULL, "
         "definition TEXT NOT NULL, state TEXT NOT NULL)");
  db.sql(R"(INSERT INTO snapshots VALUES ('m', 5, '7', 'def', '{"a": 1}'))");
  {
    auto store = bus::snapshot_store::open(db.path);
    BOOST_REQUIRE(store);
    auto loaded = (*store)->load("m");
    BOOST_REQUIRE(loaded);
    BOOST_REQUIRE(loaded->has_value());
    BOOST_TEST((*loaded)->checkpoint == 5u);
    BOOST_TEST((*loaded)->above == (std::vector<std::uint64_t>{7}));
    BOOST_TEST((*loaded)->state == R"({"a": 1})");
    BOOST_TEST((*loaded)->parked.empty());
    bus::snapshot x{8, {}, "def", "{}"};
    x.parked = {parked_at(6, "u1")};
    BOOST_TEST(!(*store)->save("m", x));
  }
  // Opened again, the column is there and is not added twice.
  auto store = bus::snapshot_store::open(db.path);
  BOOST_REQUIRE(store);
  auto loaded = (*store)->load("m");
  BOOST_REQUIRE(loaded);
  BOOST_TEST(parked_seqs(**loaded) == (std::vector<std::uint64_t>{6}));
  BOOST_TEST(db.select("SELECT json_extract(parked, '$[0].event.seq') FROM snapshots")
             == "6");
}

BOOST_AUTO_TEST_CASE(parked_events_that_do_not_decode_are_a_storage_error) {
  bus::test::sqlite_scratch db{"bus-snapshot-parked-test-", "snap.db"};
  {
    auto store = bus::snapshot_store::open(db.path);
    BOOST_REQUIRE(store);
    bus::snapshot x{8, {}, "def", "{}"};
    x.parked = {parked_at(6, "u1")};
    BOOST_REQUIRE(!(*store)->save("m", x));
  }
  db.sql("UPDATE snapshots SET parked = '[{\"reason\": \"failed\"}]'");
  auto store = bus::snapshot_store::open(db.path);
  BOOST_REQUIRE(store);
  auto loaded = (*store)->load("m");
  BOOST_REQUIRE(!loaded);
  BOOST_TEST(code_of(loaded.error()) == errc::storage_failed);
  BOOST_TEST(context_of(loaded.error()).find("parked events of 'm'")
             != std::string::npos, context_of(loaded.error()));
}

BOOST_AUTO_TEST_SUITE_END()
