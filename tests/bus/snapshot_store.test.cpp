#include "bus/snapshot_store.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>
#include <random>

#include <boost/json/serialize.hpp>

#include "bus/document_model.hpp"
#include "bus/errc.hpp"
#include "bus/index_model.hpp"
#include "bus/processed_ids.hpp"
#include "bus/snapshot_rows.hpp"
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

// Claims `model` and saves `x` under the new generation; the error, if any.
caf::error save(bus::snapshot_store& store, const std::string& model,
                const bus::snapshot& x) {
  auto claimed = store.claim(model);
  if (!claimed)
    return claimed.error();
  auto saved = store.save(model, x, claimed->generation);
  if (!saved)
    return saved.error();
  BOOST_TEST((*saved == save_outcome::saved));
  return caf::none;
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
    BOOST_TEST(!save(**store, "m", x));
    x.checkpoint = 50; // a later snapshot replaces the earlier one
    x.above = {};
    BOOST_TEST(!save(**store, "m", x));
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
    BOOST_TEST(!save(**store, "m", x));
    BOOST_TEST(!save(**store, "n", bus::snapshot{7, {}, "", "{}"}));
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
  BOOST_REQUIRE(!save(**store, "m", x));
  db.sql("CREATE TRIGGER fail_save BEFORE INSERT ON snapshots "
         "BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
  bus::snapshot y{20, {}, "def", R"({"a": 2})"};
  y.parked = {parked_at(15, "u2")}; // 9 retried, 15 parked
  auto err = save(**store, "m", y);
  BOOST_REQUIRE(err);
  BOOST_TEST(code_of(err) == errc::storage_failed);
  auto loaded = (*store)->load("m");
  BOOST_REQUIRE(loaded);
  BOOST_TEST((*loaded)->checkpoint == 10u);
  BOOST_TEST((*loaded)->state == R"({"a": 1})");
  BOOST_TEST(parked_seqs(**loaded) == (std::vector<std::uint64_t>{9}));
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

BOOST_AUTO_TEST_CASE(parked_events_that_do_not_decode_are_a_storage_error) {
  bus::test::sqlite_scratch db{"bus-snapshot-parked-test-", "snap.db"};
  {
    auto store = bus::snapshot_store::open(db.path);
    BOOST_REQUIRE(store);
    bus::snapshot x{8, {}, "def", "{}"};
    x.parked = {parked_at(6, "u1")};
    BOOST_REQUIRE(!save(**store, "m", x));
  }
  db.sql("UPDATE snapshots SET parked = '[{\"reason\": \"failed\"}]'");
  auto store = bus::snapshot_store::open(db.path);
  BOOST_REQUIRE(store);
  auto loaded = (*store)->load("m");
  BOOST_REQUIRE(!loaded);
  BOOST_TEST(code_of(loaded.error()) == errc::storage_failed);
  BOOST_TEST(context_of(loaded.error()).find("parked events of 'm'")
               != std::string::npos,
             context_of(loaded.error()));
}

namespace {

// A rows snapshot of `rows` at `checkpoint`.
bus::snapshot rows_at(std::uint64_t checkpoint, std::string rows) {
  bus::snapshot x{checkpoint, {}, "def", std::move(rows)};
  x.layout = snapshot_layout::rows;
  return x;
}

std::string row(const std::string& key, int value) {
  std::string out;
  auto v = boost::json::value(value);
  append_row(out, key, &v);
  return out;
}

std::string removed(const std::string& key) {
  std::string out;
  append_row(out, key, nullptr);
  return out;
}

boost::json::object state_of(const bus::snapshot& x) {
  auto state = rows_state(x.state);
  BOOST_REQUIRE(state);
  return *state;
}

} // namespace

BOOST_AUTO_TEST_CASE(deltas_follow_their_base_and_come_back_in_order) {
  bus::test::sqlite_scratch db{"bus-snapshot-rows-test-", "snap.db"};
  {
    auto store = bus::snapshot_store::open(db.path);
    BOOST_REQUIRE(store);
    auto gen = (*store)->claim("m")->generation;
    auto saved = [&](const bus::snapshot& x, rows_write how) {
      auto r = (*store)->save("m", x, gen, how);
      return r && *r == save_outcome::saved;
    };
    BOOST_TEST(saved(rows_at(10, row("a", 1) + row("b", 2)), rows_write::base));
    BOOST_TEST(saved(rows_at(20, row("a", 3) + removed("b")), rows_write::delta));
    auto no_change = rows_at(30, "");
    no_change.above = {32};
    BOOST_TEST(saved(no_change, rows_write::delta)); // only the checkpoint moves
  }
  // One part per delta with rows; the state of each change, in order.
  BOOST_TEST(db.select("SELECT count(*) FROM snapshot_rows WHERE model = 'm'") == "2");
  BOOST_TEST(db.select("SELECT layout FROM snapshots WHERE model = 'm'") == "rows");
  auto store = bus::snapshot_store::open(db.path);
  BOOST_REQUIRE(store);
  auto loaded = (*store)->load("m");
  BOOST_REQUIRE(loaded);
  BOOST_REQUIRE(loaded->has_value());
  BOOST_TEST(((*loaded)->layout == snapshot_layout::rows));
  BOOST_TEST((*loaded)->checkpoint == 30u);
  BOOST_TEST((*loaded)->above == (std::vector<std::uint64_t>{32}));
  BOOST_TEST(state_of(**loaded) == bus::test::json(R"({"a": 3})"));
}

BOOST_AUTO_TEST_CASE(a_delta_needs_rows_to_follow) {
  bus::test::sqlite_scratch db{"bus-snapshot-rows-test-", "snap.db"};
  auto store = bus::snapshot_store::open(db.path);
  BOOST_REQUIRE(store);
  auto gen = (*store)->claim("m")->generation;
  // Nothing stored, then a whole snapshot: a delta would describe another
  // state, and is refused with nothing written.
  for (int round = 0; round < 2; ++round) {
    auto r = (*store)->save("m", rows_at(5, row("a", 1)), gen, rows_write::delta);
    BOOST_REQUIRE(!r);
    BOOST_TEST(code_of(r.error()) == errc::storage_failed);
    auto whole = (*store)->save("m", bus::snapshot{4, {}, "def", "[1]"}, gen);
    BOOST_REQUIRE(whole);
  }
  auto loaded = (*store)->load("m");
  BOOST_REQUIRE(loaded);
  BOOST_TEST((*loaded)->checkpoint == 4u);
  BOOST_TEST((*loaded)->state == "[1]");
  BOOST_TEST(db.select("SELECT count(*) FROM snapshot_rows") == "0");
}

BOOST_AUTO_TEST_CASE(a_whole_snapshot_replaces_the_rows_and_a_base_replaces_both) {
  bus::test::sqlite_scratch db{"bus-snapshot-rows-test-", "snap.db"};
  auto store = bus::snapshot_store::open(db.path);
  BOOST_REQUIRE(store);
  auto gen = (*store)->claim("m")->generation;
  BOOST_REQUIRE((*store)->save("m", rows_at(1, row("a", 1)), gen));
  BOOST_REQUIRE((*store)->save("m", rows_at(2, row("b", 2)), gen, rows_write::delta));
  BOOST_REQUIRE((*store)->save("m", bus::snapshot{3, {}, "def", "{}"}, gen));
  BOOST_TEST(db.select("SELECT count(*) FROM snapshot_rows") == "0");
  BOOST_TEST(((*store)->load("m")->value().layout == snapshot_layout::whole));
  BOOST_REQUIRE((*store)->save("m", rows_at(4, row("c", 3)), gen, rows_write::base));
  BOOST_REQUIRE((*store)->save("m", rows_at(5, row("d", 4)), gen, rows_write::delta));
  BOOST_REQUIRE((*store)->save("m", rows_at(6, row("e", 5)), gen, rows_write::base));
  auto loaded = (*store)->load("m");
  BOOST_REQUIRE(loaded);
  BOOST_TEST(state_of(**loaded) == bus::test::json(R"({"e": 5})"));
}

BOOST_AUTO_TEST_CASE(writes_under_an_older_claim_are_superseded) {
  bus::test::sqlite_scratch db{"bus-snapshot-rows-test-", "snap.db"};
  auto first = bus::snapshot_store::open(db.path);
  auto second = bus::snapshot_store::open(db.path);
  BOOST_REQUIRE(first);
  BOOST_REQUIRE(second);
  auto old_gen = (*first)->claim("m")->generation;
  BOOST_REQUIRE((*first)->save("m", rows_at(10, row("a", 1)), old_gen));
  // Another projector claims the model: it sees what the first committed.
  auto claim = (*second)->claim("m");
  BOOST_REQUIRE(claim);
  BOOST_TEST(claim->generation > old_gen);
  BOOST_REQUIRE(claim->stored);
  BOOST_TEST(claim->stored->checkpoint == 10u);
  // The first one's later writes change nothing.
  for (auto how : {rows_write::delta, rows_write::base}) {
    auto late = (*first)->save("m", rows_at(20, row("a", 2)), old_gen, how);
    BOOST_REQUIRE(late);
    BOOST_TEST((*late == save_outcome::superseded));
  }
  auto late_whole = (*first)->save("m", bus::snapshot{20, {}, "def", "{}"}, old_gen);
  BOOST_REQUIRE(late_whole);
  BOOST_TEST((*late_whole == save_outcome::superseded));
  auto late_fold = (*first)->compact("m", old_gen);
  BOOST_REQUIRE(late_fold);
  BOOST_TEST((*late_fold == save_outcome::superseded));
  auto now = (*second)->save("m", rows_at(15, row("b", 1)), claim->generation,
                             rows_write::delta);
  BOOST_REQUIRE(now);
  BOOST_TEST((*now == save_outcome::saved));
  auto loaded = (*second)->load("m");
  BOOST_TEST((*loaded)->checkpoint == 15u);
  BOOST_TEST(state_of(**loaded) == bus::test::json(R"({"a": 1, "b": 1})"));
  // Other models are not claimed by it.
  auto other = (*first)->claim("n");
  BOOST_REQUIRE(other);
  BOOST_TEST(!other->stored);
}

BOOST_AUTO_TEST_CASE(deltas_that_outgrow_the_base_fold_into_a_new_one) {
  bus::test::sqlite_scratch db{"bus-snapshot-rows-test-", "snap.db"};
  auto store = bus::snapshot_store::open(db.path);
  BOOST_REQUIRE(store);
  auto gen = (*store)->claim("m")->generation;
  std::string base;
  for (int k = 0; k < 2000; ++k)
    base += row("key-" + std::to_string(k), k);
  BOOST_REQUIRE((*store)->save("m", rows_at(1, base), gen));
  std::uint64_t checkpoint = 1;
  std::size_t deltas = 0;
  // Deltas of 200 changes each (some removals) until a fold is due: not
  // before they hold twice the base and 64 KiB.
  for (;;) {
    BOOST_REQUIRE(deltas < 100);
    auto due = (*store)->compaction_due("m");
    BOOST_REQUIRE(due);
    if (*due)
      break;
    std::string delta;
    for (int i = 0; i < 200; ++i) {
      auto k = "key-" + std::to_string((deltas * 200 + i) * 7 % 2500);
      delta += i % 10 == 0 ? removed(k) : row(k, static_cast<int>(deltas));
    }
    BOOST_REQUIRE(
      (*store)->save("m", rows_at(++checkpoint, delta), gen, rows_write::delta));
    ++deltas;
  }
  auto delta_bytes = std::stoull(
    db.select("SELECT sum(bytes) FROM snapshot_rows WHERE model = 'm' AND part > 0"));
  BOOST_TEST(delta_bytes >= 2 * base.size());
  BOOST_TEST(delta_bytes >= 64u * 1024);
  auto before = (*store)->load("m");
  BOOST_REQUIRE(before);
  auto folded = (*store)->compact("m", gen);
  BOOST_REQUIRE(folded);
  BOOST_TEST((*folded == save_outcome::saved));
  BOOST_TEST(!*(*store)->compaction_due("m"));
  // One base of one line per key, and the same snapshot as before.
  BOOST_TEST(db.select("SELECT count(*) FROM snapshot_rows WHERE model = 'm'") == "1");
  auto after = bus::snapshot_store::open(db.path).value()->load("m");
  BOOST_REQUIRE(after);
  BOOST_TEST((*after)->checkpoint == (*before)->checkpoint);
  BOOST_TEST(state_of(**after) == state_of(**before));
  BOOST_TEST(std::count((*after)->state.begin(), (*after)->state.end(), '\n')
             == static_cast<std::ptrdiff_t>(state_of(**after).size()));
  // Deltas go on after the fold.
  BOOST_REQUIRE(
    (*store)->save("m", rows_at(++checkpoint, row("new", 1)), gen, rows_write::delta));
  BOOST_TEST(state_of(*(*store)->load("m").value()).at("new") == boost::json::value(1));
}

BOOST_AUTO_TEST_CASE(a_failed_delta_leaves_the_previous_snapshot) {
  bus::test::sqlite_scratch db{"bus-snapshot-rows-test-", "snap.db"};
  auto store = bus::snapshot_store::open(db.path);
  BOOST_REQUIRE(store);
  auto gen = (*store)->claim("m")->generation;
  BOOST_REQUIRE((*store)->save("m", rows_at(10, row("a", 1)), gen));
  db.sql("CREATE TRIGGER fail_rows BEFORE INSERT ON snapshot_rows "
         "BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
  auto failed = (*store)->save("m", rows_at(20, row("a", 2)), gen, rows_write::delta);
  BOOST_REQUIRE(!failed);
  BOOST_TEST(code_of(failed.error()) == errc::storage_failed);
  auto loaded = (*store)->load("m");
  BOOST_REQUIRE(loaded);
  BOOST_TEST((*loaded)->checkpoint == 10u);
  BOOST_TEST(state_of(**loaded) == bus::test::json(R"({"a": 1})"));
}

BOOST_AUTO_TEST_SUITE_END()
