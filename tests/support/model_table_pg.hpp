#pragma once

// The models database of a model_table test on PostgreSQL, as the shared
// cases (tests/bus/model_table_cases.hpp) use it: a fresh database on the
// tests' cluster, raw SQL on it, and failures injected with triggers.

#include <string>

#include "support/pg_scratch.hpp"

namespace bus::test {

/// The models database of a test: a database of its own on the cluster.
struct pg_models_db : pg_scratch {
  std::string& location = uri;

  /// The SQLite layout's table `name` as the PostgreSQL backend names it.
  static std::string table(const std::string& name) {
    if (name == "checkpoints")
      return "bus_model_checkpoints";
    if (name == "parked")
      return "bus_parked";
    return "bus_" + name; // model_<name>
  }

  static std::string json_field(const std::string& column, const std::string& field) {
    return "(" + column + "::json->>'" + field + "')";
  }

  void fail_updates_of(const std::string& table) const {
    fail("update_" + table, "BEFORE UPDATE ON " + table, "true", "injected failure");
  }

  void fail_inserts_into(const std::string& table, const std::string& column,
                         const std::string& literal) const {
    fail("insert_" + table, "BEFORE INSERT ON " + table,
         "NEW." + column + " = " + literal, "injected failure");
  }

  void fail_writes_to(const std::string& table, const std::string& message) const {
    fail("write_" + table, "BEFORE INSERT OR DELETE ON " + table, "true", message);
  }

  void drop_failures(const std::string& table) const {
    for (auto* what : {"update_", "insert_", "write_"})
      sql(std::string{"SET client_min_messages = warning; DROP TRIGGER IF EXISTS fail_"}
          + what + table + " ON " + table);
  }

private:
  // A trigger `fail_<name>` raising `message` when `condition` holds.
  void fail(const std::string& name, const std::string& when,
            const std::string& condition, const std::string& message) const {
    sql("CREATE OR REPLACE FUNCTION fail_" + name
        + "() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN IF " + condition
        + " THEN RAISE EXCEPTION '" + message
        + "'; END IF; RETURN coalesce(NEW, OLD); END$$");
    sql("CREATE TRIGGER fail_" + name + " " + when
        + " FOR EACH ROW EXECUTE FUNCTION fail_" + name + "()");
  }
};

} // namespace bus::test
