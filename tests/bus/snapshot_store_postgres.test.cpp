// bus::snapshot_store on PostgreSQL (a postgresql:// location): the cases
// every backend passes, against the tests' cluster, each in a database of
// its own; and what only a server has.

#include "bus/snapshot_store.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <string>
#include <tuple>

#include <boost/json/serialize.hpp>

#include "bus/errc.hpp"
#include "bus/snapshot_rows.hpp"
#include "internal/event_record.hpp"
#include "internal/record_tags.hpp"
#include "support/json_events.hpp"
#include "support/pg_scratch.hpp"

using namespace bus;
using bus::test::make_event;

namespace {

// A fresh database on the cluster.
struct pg_db : bus::test::pg_scratch {
  std::string& location = uri;

  static std::string table(const std::string& name) { return "bus_" + name; }

  void fail_inserts_into(const std::string& name) const {
    sql("CREATE FUNCTION bus_test_fail() RETURNS trigger LANGUAGE plpgsql AS "
        "$$BEGIN RAISE EXCEPTION 'injected failure'; END$$");
    sql("CREATE TRIGGER fail_" + name + " BEFORE INSERT ON " + table(name)
        + " FOR EACH ROW EXECUTE FUNCTION bus_test_fail()");
  }
};

} // namespace

BOOST_AUTO_TEST_SUITE(snapshot_store_postgres)

using snapshot_backends = std::tuple<pg_db>;

#include "snapshot_store_cases.hpp"

BOOST_AUTO_TEST_CASE(snapshots_live_beside_the_log_in_tables_of_their_own) {
  pg_db db;
  auto store = bus::snapshot_store::open(db.location);
  BOOST_REQUIRE(store);
  BOOST_TEST(!save(**store, "m", bus::snapshot{3, {5}, "def", "{}"}));
  BOOST_TEST(db.select("SELECT checkpoint FROM bus_snapshots WHERE model = 'm'")
             == "3");
  BOOST_TEST(db.select("SELECT generation FROM bus_snapshot_owners") == "1");
  // Opening again (another projector) neither fails nor loses anything.
  auto again = bus::snapshot_store::open(db.location);
  BOOST_REQUIRE(again);
  BOOST_TEST((*again)->load("m").value()->above == (std::vector<std::uint64_t>{5}));
}

BOOST_AUTO_TEST_CASE(unreachable_database_is_a_storage_error_without_password) {
  auto store = bus::snapshot_store::open(
    "postgresql://bus:secret@/nowhere?host=/nonexistent-dir");
  BOOST_REQUIRE(!store);
  BOOST_TEST(code_of(store.error()) == errc::storage_failed);
  BOOST_TEST(context_of(store.error()).find("secret") == std::string::npos,
             context_of(store.error()));
}

BOOST_AUTO_TEST_SUITE_END()
