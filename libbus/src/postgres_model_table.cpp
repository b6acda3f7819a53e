// The PostgreSQL backend of model_table: the tables of model_table.hpp
// prefixed bus_, beside the log's, each write one transaction. Opening a
// model counts its generation up; a commit locks the model's checkpoint row
// (FOR UPDATE) and checks the generation first, so an opener waits for a
// commit in flight and the old owner's commit after it is refused.

#include <string>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/parser.hpp>

#include "bus/errc.hpp"
#include "internal/model_table_backend.hpp"
#include "internal/pg_session.hpp"
#include "internal/seq_list.hpp"

namespace bus::internal {

namespace {

constexpr const char* model_table_schema = R"sql(
CREATE TABLE IF NOT EXISTS bus_model_checkpoints (
  model      text   PRIMARY KEY,
  definition text   NOT NULL,
  checkpoint bigint NOT NULL,
  above      text   NOT NULL,
  table_name text   NOT NULL UNIQUE,
  generation bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS bus_parked (
  model text   NOT NULL,
  seq   bigint NOT NULL,
  entry text   NOT NULL,
  PRIMARY KEY (model, seq)
);
)sql";

constexpr const char* table_prefix = "bus_model_";

// PostgreSQL cuts longer identifiers (NAMEDATALEN - 1), so that two long
// names could share a table.
constexpr std::size_t max_identifier_bytes = 63;

// FNV-1a: stable across builds and platforms, unlike std::hash, so that
// every release derives the same table from a name.
std::uint64_t stable_hash(const std::string& x) {
  std::uint64_t h = 14695981039346656037ull;
  for (char c : x) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

// The table of `model`: its name when the identifier holds it, else a hash
// of it (the checkpoints row records which, for an operator).
std::string table_for(const std::string& model) {
  auto plain = table_prefix + model;
  if (plain.size() <= max_identifier_bytes && model.find('\0') == std::string::npos
      && plain != "bus_model_checkpoints")
    return plain;
  static constexpr char digits[] = "0123456789abcdef";
  std::string hex;
  for (auto h = stable_hash(model); hex.size() < 16; h >>= 4)
    hex.insert(hex.begin(), digits[h & 0xf]);
  return table_prefix + std::string{"h"} + hex;
}

using params = binary_params;

class postgres_model_table final : public model_table::backend, private pg_session {
public:
  postgres_model_table(const std::string& uri, const std::string& model)
    : pg_session(uri, "models table of '" + model + "'"), model_(model) {
    // nop
  }

  // Connects, creates the tables and takes the model over; throws
  // storage_error.
  void open(const std::string& definition) {
    connect();
    transaction txn{*this};
    run(pg_schema_lock, {}, "schema", PGRES_TUPLES_OK);
    exec(model_table_schema, "schema");
    auto known = run("SELECT definition, table_name FROM bus_model_checkpoints "
                     "WHERE model = $1 FOR UPDATE",
                     params{}.text(model_), "reading its checkpoint", PGRES_TUPLES_OK);
    // A table once made keeps its name, whatever a later release derives.
    table_ = known.rows() == 1 ? std::string{known.value(0, 1)} : table_for(model_);
    quoted_ = quoted(table_);
    exec(("CREATE TABLE IF NOT EXISTS " + quoted_
          + " (key text PRIMARY KEY, value text NOT NULL)")
           .c_str(),
         "creating its table");
    auto changed = known.rows() == 1 && known.value(0, 0) != definition;
    if (changed) {
      // Rows folded under another definition mean nothing under this one;
      // events parked under it are replayed and park again if they fail.
      exec(("DELETE FROM " + quoted_).c_str(), "emptying its table");
      drop_parked();
      definition_changed_ = true;
    }
    // UNIQUE (table_name) refuses a second model on a hash's table.
    auto res = run(
      known.rows() == 0 ? "INSERT INTO bus_model_checkpoints (model, definition, "
                          "checkpoint, above, table_name, generation) "
                          "VALUES ($1, $2, 0, '', $3, 1) RETURNING generation"
      : changed         ? "UPDATE bus_model_checkpoints SET definition = $2, "
                          "checkpoint = 0, above = '', generation = generation + 1 "
                          "WHERE model = $1 AND table_name = $3 RETURNING generation"
                : "UPDATE bus_model_checkpoints SET generation = generation + 1 "
                  "WHERE model = $1 AND definition = $2 AND table_name = $3 "
                  "RETURNING generation",
      params{}.text(model_).text(definition).text(table_), "taking the model over",
      PGRES_TUPLES_OK);
    if (res.rows() != 1)
      throw storage_error("taking the model over: its checkpoint changed meanwhile");
    generation_ = std::stoull(std::string{res.value(0, 0)});
    txn.commit();
  }

  const std::string& table_name() const noexcept override { return table_; }

  caf::expected<table_contents> load(const model_table::row_sink* sink) override {
    return guarded("load", [&] {
      // One snapshot of the database: the rows and the checkpoint of one
      // commit.
      transaction txn{*this, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"};
      table_contents result;
      result.definition_changed = definition_changed_;
      auto cp = run("SELECT checkpoint, above FROM bus_model_checkpoints "
                    "WHERE model = $1",
                    params{}.text(model_), "reading its checkpoint", PGRES_TUPLES_OK);
      if (cp.rows() != 1)
        throw storage_error("its checkpoint is gone");
      result.checkpoint = std::stoull(std::string{cp.value(0, 0)});
      result.above = split_seqs(std::string{cp.value(0, 1)});
      auto rows = run(("SELECT key, value FROM " + quoted_).c_str(), {},
                      "reading its rows", PGRES_TUPLES_OK);
      // One parser for every row, as the SQLite backend does.
      boost::json::parser parser;
      bool taking = true; // the sink takes rows
      for (int i = 0; i < rows.rows() && taking; ++i) {
        auto text = rows.value(i, 1);
        boost::system::error_code ec;
        parser.reset();
        parser.write(text.data(), text.size(), ec);
        if (ec)
          throw storage_error("the value of key '" + std::string{rows.value(i, 0)}
                              + "' is not JSON");
        taking = take_row(sink, result.rows, rows.value(i, 0), parser);
      }
      auto parked = run("SELECT seq, entry FROM bus_parked WHERE model = $1 "
                        "ORDER BY seq",
                        params{}.text(model_), "reading its parked events",
                        PGRES_TUPLES_OK);
      for (int i = 0; i < parked.rows(); ++i) {
        boost::system::error_code ec;
        auto entry = boost::json::parse(parked.value(i, 1), ec);
        auto x = ec ? caf::expected<parked_event>{make_error(errc::invalid_event,
                                                             "not JSON")}
                    : parked_event_from_json(entry);
        if (!x)
          throw storage_error("parked event " + std::string{parked.value(i, 0)}
                              + " does not decode: " + context_of(x.error()));
        result.parked.push_back(std::move(*x));
      }
      txn.commit();
      return result;
    });
  }

  caf::error commit(const std::vector<row_write>& rows,
                    const std::vector<parked_write>& parked, std::uint64_t checkpoint,
                    const std::vector<std::uint64_t>& above) override {
    auto done = guarded("commit", [&] {
      transaction txn{*this};
      check_owner();
      // One statement for the rows written and one for those deleted,
      // whatever their number: a round trip per row would cost more than
      // the writes.
      std::vector<std::string_view> keys, values, gone;
      for (auto& row : rows) {
        if (row.value) {
          keys.emplace_back(row.key);
          values.emplace_back(*row.value);
        } else {
          gone.emplace_back(row.key);
        }
      }
      if (!keys.empty())
        run(("INSERT INTO " + quoted_
             + " (key, value) SELECT * FROM unnest($1::text[], $2::text[]) "
               "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value")
              .c_str(),
            params{}.texts(keys).texts(values), "writing its rows");
      if (!gone.empty())
        run(("DELETE FROM " + quoted_ + " WHERE key = ANY($1::text[])").c_str(),
            params{}.texts(gone), "deleting its rows");
      std::vector<std::uint64_t> seqs, unparked;
      std::vector<std::string_view> entries;
      for (auto& x : parked) {
        if (x.entry) {
          seqs.push_back(x.seq);
          entries.emplace_back(*x.entry);
        } else {
          unparked.push_back(x.seq);
        }
      }
      if (!seqs.empty())
        run("INSERT INTO bus_parked (model, seq, entry) SELECT $1, * FROM "
            "unnest($2::bigint[], $3::text[]) "
            "ON CONFLICT (model, seq) DO UPDATE SET entry = EXCLUDED.entry",
            params{}.text(model_).int8s(seqs).texts(entries),
            "writing its parked events");
      if (!unparked.empty())
        run("DELETE FROM bus_parked WHERE model = $1 AND seq = ANY($2::bigint[])",
            params{}.text(model_).int8s(unparked), "deleting its parked events");
      write_checkpoint(checkpoint, above);
      txn.commit();
      return true;
    });
    return done ? caf::error{} : std::move(done.error());
  }

  caf::error clear() override {
    auto done = guarded("clear", [&] {
      transaction txn{*this};
      check_owner();
      exec(("DELETE FROM " + quoted_).c_str(), "emptying its table");
      drop_parked();
      write_checkpoint(0, {});
      txn.commit();
      return true;
    });
    return done ? caf::error{} : std::move(done.error());
  }

private:
  // Locks the checkpoint row until the transaction ends and refuses to
  // write when another opener took the model over since this one opened.
  void check_owner() {
    auto res = run("SELECT generation FROM bus_model_checkpoints WHERE model = $1 "
                   "FOR UPDATE",
                   params{}.text(model_), "reading its owner", PGRES_TUPLES_OK);
    auto current = res.rows() == 1 ? std::stoull(std::string{res.value(0, 0)}) : 0;
    if (current != generation_)
      throw storage_error("superseded: another projector opened the model since this "
                          "one did (generation "
                          + std::to_string(current) + ", this one's "
                          + std::to_string(generation_) + "); it writes nothing");
  }

  void write_checkpoint(std::uint64_t checkpoint,
                        const std::vector<std::uint64_t>& above) {
    run("UPDATE bus_model_checkpoints SET checkpoint = $2, above = $3 "
        "WHERE model = $1",
        params{}.text(model_).int8(checkpoint).text(join_seqs(above)),
        "writing its checkpoint");
  }

  void drop_parked() {
    run("DELETE FROM bus_parked WHERE model = $1", params{}.text(model_),
        "dropping its parked events");
  }

  std::string model_;
  std::string table_;
  std::string quoted_;
  bool definition_changed_ = false;
  std::uint64_t generation_ = 0;
};

} // namespace

caf::expected<std::unique_ptr<model_table::backend>>
open_postgres_model_table(const std::string& uri, const std::string& model,
                          const std::string& definition) {
  auto table = std::make_unique<postgres_model_table>(uri, model);
  try {
    table->open(definition);
  } catch (const storage_error& ex) {
    return make_error(errc::storage_failed, "models table of '" + model
                                              + "': " + without_password(uri) + ": "
                                              + ex.what());
  }
  return std::unique_ptr<model_table::backend>{std::move(table)};
}

} // namespace bus::internal
