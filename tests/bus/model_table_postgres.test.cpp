// bus::model_table on PostgreSQL (a postgresql:// location): the cases
// every backend passes, against the tests' cluster, each in a database of
// its own; and what only a server has: owners, lost connections, names
// longer than an identifier.

#include "bus/model_table.hpp"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <boost/json/serialize.hpp>

#include "bus/document_model.hpp"
#include "bus/errc.hpp"
#include "bus/index_model.hpp"
#include "bus/parking_lot.hpp"
#include "support/model_table_pg.hpp"
#include "support/parked_seqs.hpp"
#include "support/user_documents.hpp"

using namespace bus;

using bus::test::pg_connection;
using bus::test::pg_models_db;
using bus::test::seq_list;
using bus::test::seqs;

BOOST_AUTO_TEST_SUITE(model_table_postgres)

using model_table_backends = std::tuple<pg_models_db>;

#include "model_table_cases.hpp"

namespace {

event created(std::uint64_t seq, const std::string& user) {
  event e;
  e.seq = seq;
  e.id = "e" + std::to_string(seq);
  e.type = "UserCreated";
  e.payload = {{"id", user}, {"n", static_cast<std::int64_t>(seq)}};
  return e;
}

// Opens `model`'s table as a projector does, with a users model.
struct projection {
  document_model model{users_config()};
  std::unique_ptr<bus::model_table> table;

  projection(const std::string& location, const std::string& name) {
    model.track_changes();
    auto t = bus::model_table::open(location, name, model.definition());
    BOOST_REQUIRE_MESSAGE(t, (t ? std::string{} : context_of(t.error())));
    table = std::move(*t);
  }
};

table_contents reload(const std::string& location, const std::string& name) {
  auto t = bus::model_table::open(location, name,
                                  document_model{users_config()}.definition());
  BOOST_REQUIRE(t);
  auto loaded = (*t)->load();
  BOOST_REQUIRE(loaded);
  return std::move(*loaded);
}

} // namespace

BOOST_AUTO_TEST_CASE(a_second_opener_takes_over_and_the_first_writes_nothing) {
  pg_models_db db;
  projection first{db.location, "users"};
  first.model.apply(created(1, "u1"));
  BOOST_REQUIRE(!first.table->commit(first.model, 1, {}));
  // A node taking over (a failover) opens the model on the same database.
  projection second{db.location, "users"};
  first.model.apply(created(2, "u2"));
  auto err = first.table->commit(first.model, 2, {});
  BOOST_REQUIRE(err);
  BOOST_TEST(code_of(err) == errc::storage_failed);
  BOOST_TEST(context_of(err).find("superseded") != std::string::npos, context_of(err));
  BOOST_TEST(db.select("SELECT count(*) FROM bus_model_users") == "1");
  BOOST_TEST(db.select("SELECT checkpoint FROM bus_model_checkpoints") == "1");
  BOOST_TEST(static_cast<bool>(first.table->clear())); // nor may it empty it
  // The new owner goes on from what the old one committed.
  auto loaded = second.table->load();
  BOOST_REQUIRE(loaded);
  BOOST_TEST(loaded->checkpoint == 1u);
  second.model.restore(loaded->rows);
  second.model.apply(created(2, "u2"));
  BOOST_REQUIRE(!second.table->commit(second.model, 2, {}));
  BOOST_TEST(reload(db.location, "users").rows.size() == 2u);
}

BOOST_AUTO_TEST_CASE(a_commit_on_a_killed_connection_fails_and_writes_nothing) {
  pg_models_db db;
  projection p{db.location, "users"};
  bus::parking_lot lot;
  lot.track_changes();
  for (std::uint64_t seq = 1; seq <= 10; ++seq)
    p.model.apply(created(seq, "u" + std::to_string(seq)));
  BOOST_REQUIRE(!p.table->commit(p.model, 10, {}, &lot));
  auto before = p.model.snapshot();
  // The next commit stops at its checkpoint, after its rows and parked
  // events were sent, on an advisory lock the test holds; its session is
  // killed there.
  db.sql("CREATE FUNCTION wait_for_test() RETURNS trigger LANGUAGE plpgsql AS "
         "$$BEGIN PERFORM pg_advisory_xact_lock(4242); RETURN NEW; END$$");
  db.sql("CREATE TRIGGER wait_for_test BEFORE UPDATE ON bus_model_checkpoints "
         "FOR EACH ROW EXECUTE FUNCTION wait_for_test()");
  pg_connection blocker{db.location};
  blocker.sql("SELECT pg_advisory_lock(4242)");
  for (std::uint64_t seq = 11; seq <= 20; ++seq)
    p.model.apply(created(seq, "u" + std::to_string(seq % 12)));
  bus::parked_event poison;
  poison.event = created(21, "u3");
  poison.key = "u3";
  poison.error = "boom";
  poison.attempts = 3;
  lot.park(poison);
  caf::error err;
  std::thread committer{[&] { err = p.table->commit(p.model, 21, {}, &lot); }};
  pg_connection admin{db.location};
  std::string pid = "<none>";
  for (int i = 0; i < 400 && pid == "<none>"; ++i) {
    pid = admin.select("SELECT pid FROM pg_stat_activity WHERE datname = "
                       "current_database() AND wait_event_type = 'Lock' AND query "
                       "LIKE 'UPDATE bus_model_checkpoints SET checkpoint%'");
    if (pid == "<none>")
      std::this_thread::sleep_for(std::chrono::milliseconds{25});
  }
  if (pid != "<none>")
    admin.select("SELECT pg_terminate_backend(" + pid + ")");
  committer.join();
  blocker.sql("SELECT pg_advisory_unlock(4242)");
  BOOST_REQUIRE_MESSAGE(pid != "<none>", "the commit never waited at its checkpoint");
  BOOST_REQUIRE(err);
  BOOST_TEST(code_of(err) == errc::storage_failed);
  db.sql("DROP TRIGGER wait_for_test ON bus_model_checkpoints");
  auto loaded = reload(db.location, "users");
  BOOST_TEST(loaded.checkpoint == 10u);
  BOOST_TEST(boost::json::value(loaded.rows) == before);
  BOOST_TEST(loaded.parked.empty());
}

BOOST_AUTO_TEST_CASE(a_name_longer_than_an_identifier_gets_a_table_of_its_own) {
  pg_models_db db;
  // 100 bytes with quotes in them; two names alike in their first 90.
  std::string common = R"(users "of" the 'long' name)";
  common.resize(90, 'x');
  auto a_name = common + "aaaaaaaaaa";
  auto b_name = common + "bbbbbbbbbb";
  BOOST_REQUIRE(a_name.size() == 100u);
  projection a{db.location, a_name};
  projection b{db.location, b_name};
  BOOST_TEST(a.table->table_name().size() <= 63u);
  BOOST_TEST(a.table->table_name() != b.table->table_name());
  a.model.apply(created(1, "u1"));
  b.model.apply(created(1, "u2"));
  b.model.apply(created(2, "u3"));
  BOOST_REQUIRE(!a.table->commit(a.model, 1, {}));
  BOOST_REQUIRE(!b.table->commit(b.model, 2, {}));
  auto la = reload(db.location, a_name);
  auto lb = reload(db.location, b_name);
  BOOST_TEST(boost::json::value(la.rows) == a.model.snapshot());
  BOOST_TEST(boost::json::value(lb.rows) == b.model.snapshot());
  BOOST_TEST(lb.checkpoint == 2u);
  // An operator finds the model's table from its name.
  BOOST_TEST(db.select("SELECT table_name FROM bus_model_checkpoints WHERE model = '"
                       + std::string{R"(users "of" the ''long'' name)"}
                       + "' || repeat('x', 64) "
                         "|| 'aaaaaaaaaa'")
             == a.table->table_name());
}

BOOST_AUTO_TEST_CASE(unreachable_database_is_a_storage_error_without_password) {
  auto table = bus::model_table::open(
    "postgresql://bus:secret@/nowhere?host=/nonexistent-dir", "users", "");
  BOOST_REQUIRE(!table);
  BOOST_TEST(code_of(table.error()) == errc::storage_failed);
  BOOST_TEST(context_of(table.error()).find("secret") == std::string::npos,
             context_of(table.error()));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(model_table_parked_postgres)

using model_table_backends = std::tuple<pg_models_db>;

#include "model_table_parked_cases.hpp"

BOOST_AUTO_TEST_SUITE_END()
