#include "bus/snapshot_store.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>
#include <random>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <boost/json/serialize.hpp>

#include "bus/document_model.hpp"
#include "bus/errc.hpp"
#include "bus/index_model.hpp"
#include "bus/processed_ids.hpp"
#include "bus/snapshot_rows.hpp"
#include "internal/event_record.hpp"
#include "internal/record_tags.hpp"
#include "internal/snapshot_backend.hpp"
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

// The SQLite file of a test.
struct sqlite_db : bus::test::sqlite_scratch {
  std::string location;

  sqlite_db() : sqlite_scratch("bus-snapshot-test-", "snap.db"), location(path) {
    // nop
  }

  static std::string table(const std::string& name) { return name; }

  void fail_inserts_into(const std::string& name) const {
    sql("CREATE TRIGGER fail_" + name + " BEFORE INSERT ON " + name
        + " BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(snapshot_store, scratch)

using snapshot_backends = std::tuple<sqlite_db>;

#include "snapshot_store_cases.hpp"

// Many read models' snapshot writers share one file, each on a connection
// of its own. They wait their turn in the process: left to SQLite's busy
// handler, which polls with growing sleeps, one could wait past its
// timeout while the others kept taking the lock, and its model failed
// ("save: database is locked", 16 models under load). Here the timeout is
// a millisecond, so any wait on SQLite's lock would fail a save.
BOOST_AUTO_TEST_CASE(writers_of_many_models_on_one_file_take_turns) {
  sqlite_db db;
  constexpr int writers = 8;
  constexpr int saves = 30;
  std::mutex failures_guard;
  std::vector<std::string> failures;
  auto failed = [&](std::string what) {
    std::lock_guard<std::mutex> guard{failures_guard};
    failures.push_back(std::move(what));
  };
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w)
    threads.emplace_back([&, w] {
      auto model = "model-" + std::to_string(w);
      auto store = internal::open_sqlite_snapshots(db.location,
                                                   std::chrono::milliseconds{1});
      if (!store)
        return failed(model + ": open: " + to_string(store.error()));
      auto claimed = (*store)->claim(model);
      if (!claimed)
        return failed(model + ": claim: " + to_string(claimed.error()));
      for (int i = 1; i <= saves; ++i) {
        snapshot x;
        x.checkpoint = static_cast<std::uint64_t>(i);
        x.layout = snapshot_layout::rows;
        for (int k = 0; k < 200; ++k)
          x.state += "[\"k" + std::to_string(k) + "\",{\"n\":" + std::to_string(i)
                     + "}]\n";
        auto saved = (*store)->save(model, x, claimed->generation,
                                    i == 1 ? rows_write::base : rows_write::delta);
        if (!saved)
          return failed(model + ": save " + std::to_string(i) + ": "
                        + to_string(saved.error()));
      }
    });
  for (auto& t : threads)
    t.join();
  BOOST_REQUIRE_MESSAGE(failures.empty(), failures.size()
                                            << " writers failed; first: "
                                            << (failures.empty() ? "" : failures[0]));
  auto store = bus::snapshot_store::open(db.location);
  BOOST_REQUIRE(store);
  for (int w = 0; w < writers; ++w) {
    auto claimed = (*store)->claim("model-" + std::to_string(w));
    BOOST_REQUIRE(claimed);
    BOOST_REQUIRE(claimed->stored);
    BOOST_TEST(claimed->stored->checkpoint == static_cast<std::uint64_t>(saves));
  }
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

BOOST_AUTO_TEST_CASE(a_file_written_before_parking_opens_and_gains_the_columns) {
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
    BOOST_TEST(((*loaded)->layout == snapshot_layout::whole));
    bus::snapshot x{8, {}, "def", "{}"};
    x.parked = {parked_at(6, "u1")};
    BOOST_TEST(!save(**store, "m", x));
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

BOOST_AUTO_TEST_SUITE_END()
