// The postgres scenario: appending to the PostgreSQL log beside the SQLite
// log, under each durability policy, in the same run.

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "bus/errc.hpp"
#include "bus/log.hpp"
#include "bus/sqlite_log.hpp"
#include "local_scenarios.hpp"

#ifdef BUS_HAS_POSTGRESQL
#  include <libpq-fe.h>

#  include "bus/postgres_log.hpp"
#endif

namespace bench {

#ifdef BUS_HAS_POSTGRESQL

namespace {

// Each run starts on empty tables, as the SQLite runs start on a new file.
bool drop_tables(const std::string& uri) {
  auto* conn = PQconnectdb(uri.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    BUS_LOG(bus::log_level::error, "bus-bench",
            "postgres: cannot connect: " << PQerrorMessage(conn));
    PQfinish(conn);
    return false;
  }
  // Quietly: no notice about a table that is not there yet.
  auto* res = PQexec(conn, "SET client_min_messages = warning; "
                           "DROP TABLE IF EXISTS bus_events, bus_ids");
  auto ok = PQresultStatus(res) == PGRES_COMMAND_OK;
  if (!ok)
    BUS_LOG(bus::log_level::error, "bus-bench",
            "postgres: cannot reset the tables: " << PQerrorMessage(conn));
  PQclear(res);
  PQfinish(conn);
  return ok;
}

} // namespace

void postgres_append(const options& opt, const std::vector<bus::event>& events,
                     report& out) {
  if (opt.pg_uri.empty()) {
    BUS_LOG(bus::log_level::info, "bus-bench", "postgres: not run (no --pg-uri)");
    return;
  }
  for (auto policy : {bus::durability{bus::durability::fsync_each_batch},
                      bus::durability{bus::durability::os_buffered},
                      bus::durability::every(std::chrono::milliseconds{10})}) {
    std::vector<double> pg_rates, sqlite_rates;
    for (std::size_t run = 0; run < opt.runs; ++run) {
      if (!drop_tables(opt.pg_uri))
        return;
      {
        auto log = bus::postgres_log::open(opt.pg_uri, policy);
        if (!log) {
          BUS_LOG(bus::log_level::error, "bus-bench",
                  "postgres: " << bus::context_of(log.error()));
          return;
        }
        auto t0 = clock_type::now();
        append_durably(**log, split(events, opt.batch_size));
        pg_rates.push_back(per_second(events.size(), seconds_since(t0)));
      }
      auto path = opt.store_dir / ("bus-bench-pg-" + std::to_string(run) + ".db");
      std::filesystem::remove(path);
      {
        auto log = bus::sqlite_log::open(path.string(), policy);
        if (!log) {
          BUS_LOG(bus::log_level::error, "bus-bench",
                  "cannot open " << path.string() << ": "
                                 << bus::context_of(log.error()));
          return;
        }
        auto t0 = clock_type::now();
        append_durably(**log, split(events, opt.batch_size));
        sqlite_rates.push_back(per_second(events.size(), seconds_since(t0)));
      }
      for (auto suffix : {"", "-wal", "-shm"})
        std::filesystem::remove(path.string() + suffix);
    }
    drop_tables(opt.pg_uri);
    auto name = bus::to_string(policy);
    std::replace(name.begin(), name.end(), ':', '_');
    out.rate("pg_append_" + name, "postgres append (" + bus::to_string(policy) + ")",
             median(pg_rates), median(sqlite_rates), "sqlite_log append");
  }
}

#else

void postgres_append(const options&, const std::vector<bus::event>&, report&) {
  BUS_LOG(bus::log_level::info, "bus-bench",
          "postgres: not run (built without PostgreSQL)");
}

#endif

} // namespace bench
