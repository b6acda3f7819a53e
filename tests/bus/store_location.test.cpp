#include "bus/store_location.hpp"

#include <boost/test/unit_test.hpp>

using bus::is_postgres_uri;

BOOST_AUTO_TEST_SUITE(store_location)

BOOST_AUTO_TEST_CASE(a_uri_is_told_from_a_sqlite_path) {
  BOOST_TEST(is_postgres_uri("postgresql:///bus?host=/tmp"));
  BOOST_TEST(is_postgres_uri("postgres://user@db/bus"));
  BOOST_TEST(!is_postgres_uri("data/bus.db"));
  BOOST_TEST(!is_postgres_uri("postgresql.db"));
  BOOST_TEST(!is_postgres_uri(""));
  BOOST_TEST(!is_postgres_uri(":memory:"));
}

BOOST_AUTO_TEST_SUITE_END()
