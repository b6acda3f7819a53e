#pragma once

// What a model_table is made of: the storage behind it, SQLite
// (sqlite_model_table.cpp) or PostgreSQL (postgres_model_table.cpp), each
// with the semantics model_table.hpp documents. The front (model_table.cpp)
// turns a batch into the writes below; a backend stores them in one
// transaction. One backend per connection, used by one actor.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/parser.hpp>
#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "bus/model_table.hpp"

namespace bus {

class model_table::backend {
public:
  /// A row to write: its value, the JSON a query of `key` answers, or none
  /// when the model no longer has the key (the row is deleted). Views into
  /// the front's buffers, valid for the call.
  struct row_write {
    std::string_view key;
    std::optional<std::string_view> value;
  };

  /// A parked event to write: its entry (a parked_event as JSON), or none
  /// when it left the lot (the entry is deleted).
  struct parked_write {
    std::uint64_t seq = 0;
    std::optional<std::string> entry;
  };

  virtual ~backend() = default;

  /// Returns the name of the model's table.
  virtual const std::string& table_name() const noexcept = 0;

  /// Reads the table; hands each row to `sink` (until it returns false)
  /// instead of keeping it, unless `sink` is null.
  virtual caf::expected<table_contents> load(const model_table::row_sink* sink) = 0;

  /// Writes `rows`, `parked`, the checkpoint and `above` in one transaction.
  virtual caf::error
  commit(const std::vector<row_write>& rows, const std::vector<parked_write>& parked,
         std::uint64_t checkpoint, const std::vector<std::uint64_t>& above)
    = 0;

  virtual caf::error clear() = 0;
};

} // namespace bus

namespace bus::internal {

/// Quotes an SQL identifier (both SQL dialects): model names may hold any
/// character.
inline std::string quoted(const std::string& name) {
  std::string out = "\"";
  for (auto c : name) {
    if (c == '"')
      out += '"';
    out += c;
  }
  return out + "\"";
}

/// Hands a loaded row, `key` and what `parser` just parsed, to `sink`, or
/// keeps it in `rows` when there is no sink. Returns whether to go on.
inline bool take_row(const model_table::row_sink* sink, boost::json::object& rows,
                     std::string_view key, boost::json::parser& parser) {
  if (sink == nullptr) {
    rows.emplace(boost::json::string_view{key.data(), key.size()}, parser.release());
    return true;
  }
  auto value = parser.release();
  return (*sink)(key, value);
}

/// Opens (or creates) the models database at `path` and the table of
/// `model` in it.
caf::expected<std::unique_ptr<model_table::backend>>
open_sqlite_model_table(const std::string& path, const std::string& model,
                        const std::string& definition);

#ifdef BUS_HAS_POSTGRESQL
/// Opens (or creates) the bus_model* tables in the database at `uri` and
/// the table of `model`, which this connection then owns.
caf::expected<std::unique_ptr<model_table::backend>>
open_postgres_model_table(const std::string& uri, const std::string& model,
                          const std::string& definition);
#endif

} // namespace bus::internal
