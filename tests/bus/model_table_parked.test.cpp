// model_table and the model's parked events: committed in the same
// transaction as its rows and checkpoint (model_table.hpp).

#include "bus/model_table.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include <boost/json/serialize.hpp>

#include "bus/document_model.hpp"
#include "bus/errc.hpp"
#include "bus/parking_lot.hpp"
#include "support/sqlite_scratch.hpp"
#include "support/parked_seqs.hpp"

using namespace bus;

using bus::test::seq_list;
using bus::test::seqs;

namespace {

struct scratch : bus::test::sqlite_scratch {
  scratch() : sqlite_scratch("bus-model-table-parked-test-") {
    // nop
  }
};

document_model_config users_config() {
  document_model_config cfg;
  cfg.name = "users";
  cfg.key = "id";
  cfg.merge_on = {"UserUpdated"};
  return cfg;
}

event update(std::uint64_t seq, const std::string& user, std::int64_t n) {
  event e;
  e.seq = seq;
  e.id = "e" + std::to_string(seq);
  e.type = "UserUpdated";
  e.payload["id"] = user;
  e.payload["n"] = n;
  return e;
}

parked_event poison(std::uint64_t seq, const std::string& user) {
  parked_event x;
  x.event = update(seq, user, -1);
  x.key = user;
  x.error = "cannot apply " + std::to_string(seq);
  x.attempts = 3;
  x.parked_at = 1700000000000;
  return x;
}

// A users model with its table and a tracking lot, as a projector holds them.
struct projection {
  document_model model{users_config()};
  bus::parking_lot lot;
  std::unique_ptr<bus::model_table> table;

  explicit projection(const std::string& path) {
    model.track_changes();
    lot.track_changes();
    auto t = bus::model_table::open(path, "users", model.definition());
    BOOST_REQUIRE(t);
    table = std::move(*t);
  }

  caf::error commit(std::uint64_t checkpoint) {
    return table->commit(model, checkpoint, {}, &lot);
  }
};

// Loads what the table holds after reopening it.
table_contents reload(const std::string& path) {
  auto table = bus::model_table::open(path, "users",
                                      document_model{users_config()}.definition());
  BOOST_REQUIRE(table);
  auto loaded = (*table)->load();
  BOOST_REQUIRE(loaded);
  return std::move(*loaded);
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(model_table_parked, scratch)

BOOST_AUTO_TEST_CASE(parked_events_come_back_in_seq_order_with_the_checkpoint) {
  {
    projection p{path};
    p.model.apply(update(1, "u1", 1));
    p.lot.park(poison(3, "u2"));
    p.lot.park(poison(2, "u1"));
    p.lot.park_behind(update(4, "u1", 4), "u1", 1700000000001);
    BOOST_REQUIRE(!p.commit(4));
  }
  auto loaded = reload(path);
  BOOST_TEST(loaded.checkpoint == 4u);
  BOOST_TEST(seqs(loaded.parked) == (seq_list{2, 3, 4}));
  BOOST_TEST(loaded.parked[0].error == "cannot apply 2");
  BOOST_TEST(*loaded.parked[2].key == "u1");
  BOOST_TEST((loaded.parked[2].reason == park_reason::behind));
  BOOST_TEST(loaded.parked[2].behind == 2u);
  BOOST_TEST(loaded.parked[2].event.payload.at("n").as_int64() == 4);
  // Plain SQL for an operator.
  BOOST_TEST(select("SELECT count(*) FROM parked WHERE model = 'users'") == "3");
  BOOST_TEST(select("SELECT json_extract(entry, '$.error') FROM parked WHERE seq = 3")
             == "cannot apply 3");
  // A lot restored from them blocks what it blocked.
  bus::parking_lot lot;
  lot.restore(loaded.parked);
  BOOST_TEST(lot.blocks("u1"));
  BOOST_TEST(lot.blocks("u2"));
}

BOOST_AUTO_TEST_CASE(a_retry_commits_rows_and_parked_set_together) {
  projection p{path};
  p.lot.park(poison(2, "u1"));
  p.lot.park_behind(update(3, "u1", 3), "u1", 0);
  p.lot.park(poison(4, "u2"));
  BOOST_REQUIRE(!p.commit(4));
  // The model is fixed: the retried events apply, in order, with no new
  // event, so the checkpoint stays.
  auto taken = p.lot.take(2);
  BOOST_REQUIRE(taken);
  for (auto& x : *taken)
    p.model.apply(x.event);
  BOOST_REQUIRE(!p.commit(4));
  auto loaded = reload(path);
  BOOST_TEST(loaded.checkpoint == 4u);
  BOOST_TEST(seqs(loaded.parked) == (seq_list{4}));
  BOOST_TEST(boost::json::serialize(loaded.rows.at("u1")) == R"({"id":"u1","n":3})");
  // A discard drops the row of the parked event alone.
  BOOST_REQUIRE(p.lot.discard(4));
  BOOST_REQUIRE(!p.commit(4));
  BOOST_TEST(reload(path).parked.empty());
}

BOOST_AUTO_TEST_CASE(a_batch_that_parks_nothing_writes_nothing_parked) {
  projection p{path};
  p.lot.park(poison(2, "u1"));
  BOOST_REQUIRE(!p.commit(2));
  // Any write to the parked table now fails: a commit that touches it fails.
  sql("CREATE TRIGGER no_parked_write BEFORE INSERT ON parked "
      "BEGIN SELECT RAISE(ABORT, 'parked written'); END");
  sql("CREATE TRIGGER no_parked_delete BEFORE DELETE ON parked "
      "BEGIN SELECT RAISE(ABORT, 'parked written'); END");
  p.model.apply(update(3, "u2", 3));
  BOOST_TEST(!p.commit(3));
  BOOST_REQUIRE(!p.table->commit(p.model, 4, {})); // without a lot, too
  p.lot.park(poison(5, "u3"));
  auto err = p.commit(5);
  BOOST_REQUIRE(err);
  BOOST_TEST(context_of(err).find("parked written") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_failed_commit_leaves_the_previous_parked_set) {
  {
    projection p{path};
    p.model.apply(update(1, "u1", 1));
    p.lot.park(poison(2, "u2"));
    BOOST_REQUIRE(!p.commit(2));
    // The next commit fails at the checkpoint, after its rows and parked
    // events were written: a crash in the middle of the transaction.
    sql("CREATE TRIGGER fail_checkpoint BEFORE UPDATE ON checkpoints "
        "BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
    p.model.apply(update(3, "u1", 3));
    p.lot.park(poison(4, "u3"));
    BOOST_REQUIRE(p.lot.discard(2));
    auto err = p.commit(4);
    BOOST_REQUIRE(err);
    BOOST_TEST(code_of(err) == errc::storage_failed);
    sql("DROP TRIGGER fail_checkpoint");
    // And one fails in the middle of its parked events.
    sql("CREATE TRIGGER fail_parked BEFORE INSERT ON parked "
        "WHEN NEW.seq = 6 BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
    p.lot.park(poison(5, "u5"));
    p.lot.park(poison(6, "u6"));
    BOOST_REQUIRE(p.commit(6));
  }
  auto loaded = reload(path);
  BOOST_TEST(loaded.checkpoint == 2u);
  BOOST_TEST(seqs(loaded.parked) == (seq_list{2}));
  BOOST_TEST(boost::json::serialize(loaded.rows.at("u1")) == R"({"id":"u1","n":1})");
}

BOOST_AUTO_TEST_CASE(a_database_written_before_parking_opens_and_gains_the_table) {
  // The layout before parked events existed, with one committed row.
  auto definition = document_model{users_config()}.definition();
  sql("CREATE TABLE checkpoints (model TEXT PRIMARY KEY, definition TEXT NOT NULL, "
      "checkpoint INTEGER NOT NULL, above TEXT NOT NULL, table_name TEXT NOT NULL)");
  sql("CREATE TABLE model_users (key TEXT PRIMARY KEY, value TEXT NOT NULL) "
      "WITHOUT ROWID");
  sql("INSERT INTO checkpoints VALUES ('users', '" + definition
      + "', 7, '9', 'model_users')");
  sql(R"(INSERT INTO model_users VALUES ('u1', '{"id":"u1","n":7}'))");
  BOOST_TEST(select("SELECT count(*) FROM sqlite_master WHERE name = 'parked'") == "0");
  {
    auto loaded = reload(path);
    BOOST_TEST(loaded.checkpoint == 7u);
    BOOST_TEST(loaded.above == (seq_list{9}));
    BOOST_TEST(!loaded.definition_changed);
    BOOST_TEST(loaded.rows.size() == 1u);
    BOOST_TEST(loaded.parked.empty());
  }
  projection p{path};
  p.lot.park(poison(10, "u1"));
  BOOST_REQUIRE(!p.commit(10));
  BOOST_TEST(seqs(reload(path).parked) == (seq_list{10}));
}

BOOST_AUTO_TEST_CASE(a_new_definition_or_a_clear_drops_the_parked_events) {
  {
    projection p{path};
    p.lot.park(poison(2, "u1"));
    BOOST_REQUIRE(!p.commit(2));
    BOOST_REQUIRE(!p.table->clear());
    BOOST_TEST(p.table->load()->parked.empty());
    p.lot.clear(); // the projector's rebuild forgets them, too
    p.lot.park(poison(2, "u1"));
    BOOST_REQUIRE(!p.commit(2));
  }
  auto cfg = users_config();
  cfg.merge_on.push_back("UserRenamed");
  document_model changed{cfg};
  auto table = bus::model_table::open(path, "users", changed.definition());
  BOOST_REQUIRE(table);
  auto loaded = (*table)->load();
  BOOST_REQUIRE(loaded);
  BOOST_TEST(loaded->definition_changed);
  BOOST_TEST(loaded->parked.empty());
}

BOOST_AUTO_TEST_CASE(models_keep_their_own_parked_events) {
  projection p{path};
  document_model other{[] {
    auto cfg = users_config();
    cfg.name = "others";
    return cfg;
  }()};
  other.track_changes();
  auto other_table = bus::model_table::open(path, "others", other.definition());
  BOOST_REQUIRE(other_table);
  bus::parking_lot other_lot;
  other_lot.track_changes();
  p.lot.park(poison(2, "u1"));
  other_lot.park(poison(2, "u1")); // the same event, parked by both
  other_lot.park(poison(3, "u2"));
  BOOST_REQUIRE(!p.commit(3));
  BOOST_REQUIRE(!(*other_table)->commit(other, 3, {}, &other_lot));
  BOOST_REQUIRE(other_lot.discard(2));
  BOOST_REQUIRE(!(*other_table)->commit(other, 3, {}, &other_lot));
  BOOST_TEST(seqs(p.table->load()->parked) == (seq_list{2}));
  BOOST_TEST(seqs((*other_table)->load()->parked) == (seq_list{3}));
}

BOOST_AUTO_TEST_CASE(a_parked_event_that_does_not_decode_is_a_storage_error) {
  {
    projection p{path};
    p.lot.park(poison(2, "u1"));
    BOOST_REQUIRE(!p.commit(2));
  }
  sql("UPDATE parked SET entry = '{\"event\": 1}' WHERE seq = 2");
  auto table = bus::model_table::open(path, "users",
                                      document_model{users_config()}.definition());
  BOOST_REQUIRE(table);
  auto loaded = (*table)->load();
  BOOST_REQUIRE(!loaded);
  BOOST_TEST(code_of(loaded.error()) == errc::storage_failed);
  BOOST_TEST(context_of(loaded.error()).find("parked event 2 does not decode")
               != std::string::npos,
             context_of(loaded.error()));
}

BOOST_AUTO_TEST_SUITE_END()
