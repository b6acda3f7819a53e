// model_table and the model's parked events: committed in the same
// transaction as its rows and checkpoint (model_table.hpp).

#include "bus/model_table.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include <boost/json/serialize.hpp>

#include "bus/document_model.hpp"
#include "bus/errc.hpp"
#include "bus/parking_lot.hpp"
#include "support/model_table_sqlite.hpp"
#include "support/parked_seqs.hpp"

using namespace bus;

using bus::test::seq_list;
using bus::test::seqs;

BOOST_AUTO_TEST_SUITE(model_table_parked)

using model_table_backends = std::tuple<bus::test::sqlite_models_db>;

#include "model_table_parked_cases.hpp"

BOOST_FIXTURE_TEST_CASE(a_database_written_before_parking_opens_and_gains_the_table,
                        bus::test::sqlite_models_db) {
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

BOOST_AUTO_TEST_SUITE_END()
