#pragma once

// A fresh database on the tests' PostgreSQL cluster (tests/support/
// pg_cluster.sh, started by CTest as the fixture pg_cluster), dropped when
// the test ends, and raw SQL on it through connections of its own (what an
// operator with psql would do). The cluster's URI comes in BUS_TEST_PG_URI;
// without it the test fails, saying how to run it.

#include <cstdlib>
#include <random>
#include <string>

#include <boost/test/unit_test.hpp>
#include <libpq-fe.h>

namespace bus::test {

/// Returns the environment variable `name`, failing the test without it.
inline std::string pg_env(const char* name) {
  auto* value = std::getenv(name);
  if (value == nullptr || *value == '\0')
    BOOST_FAIL(name << " is not set: run this test through CTest (its fixture "
                       "pg_cluster starts a PostgreSQL cluster), or start one "
                       "with tests/support/pg_cluster.sh and export its URI");
  return value;
}

/// A connection of the test's own.
class pg_connection {
public:
  explicit pg_connection(const std::string& uri) : conn_(PQconnectdb(uri.c_str())) {
    BOOST_REQUIRE_MESSAGE(PQstatus(conn_) == CONNECTION_OK,
                          uri << ": " << PQerrorMessage(conn_));
  }

  pg_connection(const pg_connection&) = delete;
  pg_connection& operator=(const pg_connection&) = delete;

  ~pg_connection() { PQfinish(conn_); }

  /// Runs `text`, failing the test when the server refuses it.
  void sql(const std::string& text) {
    auto* res = PQexec(conn_, text.c_str());
    auto status = PQresultStatus(res);
    std::string why = PQresultErrorMessage(res);
    PQclear(res);
    BOOST_REQUIRE_MESSAGE(status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK,
                          text << ": " << why);
  }

  /// Returns the first value `query` selects, or "<none>".
  std::string select(const std::string& query) {
    auto* res = PQexec(conn_, query.c_str());
    auto status = PQresultStatus(res);
    std::string why = PQresultErrorMessage(res);
    std::string value = "<none>";
    if (status == PGRES_TUPLES_OK && PQntuples(res) > 0)
      value = PQgetvalue(res, 0, 0);
    PQclear(res);
    BOOST_REQUIRE_MESSAGE(status == PGRES_TUPLES_OK, query << ": " << why);
    return value;
  }

private:
  PGconn* conn_;
};

struct pg_scratch {
  std::string cluster_uri;
  std::string database;
  /// The URI of the fresh database.
  std::string uri;

  pg_scratch() {
    cluster_uri = pg_env("BUS_TEST_PG_URI");
    std::random_device rd;
    database = "bus_test_" + std::to_string(rd()) + std::to_string(rd());
    pg_connection{cluster_uri}.sql("CREATE DATABASE " + database);
    // The cluster's URI names the database postgres: ".../postgres?...".
    auto at = cluster_uri.find("/postgres?");
    BOOST_REQUIRE_MESSAGE(at != std::string::npos,
                          "BUS_TEST_PG_URI names no database: " << cluster_uri);
    uri = cluster_uri;
    uri.replace(at, std::string{"/postgres?"}.size(), "/" + database + "?");
  }

  ~pg_scratch() {
    // FORCE: ends the sessions a failed test left open.
    auto* conn = PQconnectdb(cluster_uri.c_str());
    PQclear(
      PQexec(conn, ("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)").c_str()));
    PQfinish(conn);
  }

  /// Runs `text` on the database.
  void sql(const std::string& text) const { pg_connection{uri}.sql(text); }

  /// Returns the first value `query` selects on the database, or "<none>".
  std::string select(const std::string& query) const {
    return pg_connection{uri}.select(query);
  }

  /// Checks that the rows cover 1..head with no gap and no overlap, and
  /// that every id is stored once.
  void check_dense(std::uint64_t head) const {
    BOOST_TEST(select("SELECT coalesce(sum(count), 0) FROM bus_events")
               == std::to_string(head));
    // Each row starts where the previous one ended.
    BOOST_TEST(select("SELECT count(*) FROM (SELECT first_seq, lag(first_seq + count) "
                      "OVER (ORDER BY first_seq) AS expected FROM bus_events) r "
                      "WHERE first_seq <> coalesce(expected, 1)")
               == "0");
    BOOST_TEST(select("SELECT count(*) FROM bus_ids") == std::to_string(head));
    BOOST_TEST(select("SELECT count(DISTINCT seq) FROM bus_ids")
               == std::to_string(head));
  }

  /// Runs tests/support/pg_cluster.sh `action` (start, stop) on the cluster.
  static void cluster(const std::string& action) {
    auto command = "bash '" + pg_env("BUS_TEST_PG_CLUSTER") + "' " + action + " '"
                   + pg_env("BUS_TEST_PG_DIR") + "' > /dev/null";
    BOOST_REQUIRE_MESSAGE(std::system(command.c_str()) == 0, command);
  }
};

} // namespace bus::test
