#pragma once

// The models database of a model_table test on SQLite, as the shared cases
// (tests/bus/model_table_cases.hpp) use it: a fresh file, raw SQL on it,
// and failures injected with triggers.

#include <string>

#include "support/sqlite_scratch.hpp"

namespace bus::test {

/// The models database of a test: a SQLite file.
struct sqlite_models_db : bus::test::sqlite_scratch {
  std::string& location = path;

  sqlite_models_db() : sqlite_scratch("bus-model-table-test-") {
    // nop
  }

  static std::string table(const std::string& name) { return name; }

  static std::string json_field(const std::string& column, const std::string& field) {
    return "json_extract(" + column + ", '$." + field + "')";
  }

  void fail_updates_of(const std::string& table) const {
    sql("CREATE TRIGGER fail_update_" + table + " BEFORE UPDATE ON " + table
        + " BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
  }

  void fail_inserts_into(const std::string& table, const std::string& column,
                         const std::string& literal) const {
    sql("CREATE TRIGGER fail_insert_" + table + " BEFORE INSERT ON " + table
        + " WHEN NEW." + column + " = " + literal
        + " BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
  }

  void fail_writes_to(const std::string& table, const std::string& message) const {
    for (auto* op : {"INSERT", "DELETE"})
      sql(std::string{"CREATE TRIGGER fail_write_"} + op + "_" + table + " BEFORE " + op
          + " ON " + table + " BEGIN SELECT RAISE(ABORT, '" + message + "'); END");
  }

  void drop_failures(const std::string& table) const {
    for (auto* name :
         {"fail_update_", "fail_insert_", "fail_write_INSERT_", "fail_write_DELETE_"})
      sql(std::string{"DROP TRIGGER IF EXISTS "} + name + table);
  }
};

} // namespace bus::test
