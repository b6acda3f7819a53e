// The PostgreSQL backend of snapshot_store: the tables of snapshot_store.hpp
// prefixed bus_, beside the log's, each write one transaction. The owner's
// row is locked (FOR UPDATE) before a write checks its generation, so a
// claim waits for a write in flight and the write after it is refused.

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bus/errc.hpp"
#include "bus/snapshot_rows.hpp"
#include "internal/pg_session.hpp"
#include "internal/seq_list.hpp"
#include "internal/snapshot_backend.hpp"

namespace bus::internal {

namespace {

constexpr const char* snapshots_schema = R"sql(
CREATE TABLE IF NOT EXISTS bus_snapshots (
  model      text   PRIMARY KEY,
  checkpoint bigint NOT NULL,
  above      text   NOT NULL,
  definition text   NOT NULL,
  state      text   NOT NULL,
  parked     text   NOT NULL DEFAULT '',
  layout     text   NOT NULL DEFAULT 'whole'
);
CREATE TABLE IF NOT EXISTS bus_snapshot_rows (
  model text   NOT NULL,
  part  bigint NOT NULL,
  bytes bigint NOT NULL,
  rows  text   NOT NULL,
  PRIMARY KEY (model, part)
);
CREATE TABLE IF NOT EXISTS bus_snapshot_owners (
  model      text   PRIMARY KEY,
  generation bigint NOT NULL
);
)sql";

using params = binary_params;

class postgres_snapshots final : public snapshot_store::backend, private pg_session {
public:
  explicit postgres_snapshots(const std::string& uri) : pg_session(uri, "snapshots") {
    // nop
  }

  // Connects and creates the tables; throws storage_error.
  void open() {
    connect();
    transaction txn{*this};
    run(pg_schema_lock, {}, "schema", PGRES_TUPLES_OK);
    exec(snapshots_schema, "schema");
    txn.commit();
  }

  caf::expected<snapshot_claim> claim(const std::string& model) override {
    return guarded("claiming '" + model + "'", [&] {
      transaction txn{*this};
      auto res = run("INSERT INTO bus_snapshot_owners (model, generation) "
                     "VALUES ($1, 1) ON CONFLICT (model) DO UPDATE "
                     "SET generation = bus_snapshot_owners.generation + 1 "
                     "RETURNING generation",
                     params{}.text(model), "claim", PGRES_TUPLES_OK);
      snapshot_claim result;
      result.generation = std::stoull(std::string{res.value(0, 0)});
      // READ COMMITTED: this statement sees every write committed before
      // the claim, which waited for any write holding the owner's row.
      result.stored = read(model);
      txn.commit();
      // Another connection may have written this model's rows before.
      sizes_.erase(model);
      return result;
    });
  }

  caf::expected<std::optional<snapshot>> load(const std::string& model) override {
    return guarded("load", [&] {
      // One snapshot of the database: the row and its rows of one commit.
      transaction txn{*this, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"};
      auto result = read(model);
      txn.commit();
      return result;
    });
  }

  caf::expected<save_outcome> save(const std::string& model, const snapshot& x,
                                   std::uint64_t generation, rows_write how) override {
    return guarded("save", [&] {
      transaction txn{*this};
      if (!owns(model, generation))
        return save_outcome::superseded;
      auto delta = x.layout == snapshot_layout::rows && how == rows_write::delta;
      // A text column holds no byte 0: record rows go in as JSON lines.
      auto& rows = x.layout == snapshot_layout::rows ? as_text(x.state) : x.state;
      rows_sizes after{rows.size(), 0, 1};
      if (delta) {
        // A delta follows the rows its projector wrote or restored; with
        // anything else stored it would describe another state.
        auto res = run("SELECT layout FROM bus_snapshots WHERE model = $1",
                       params{}.text(model), "save", PGRES_TUPLES_OK);
        if (res.rows() == 0 || res.value(0, 0) != "rows")
          throw storage_error("a delta of '" + model + "' without its rows");
        after = *cached_sizes(model);
        if (!rows.empty()) {
          write_part(model, after.next_part, rows);
          after.delta_bytes += rows.size();
          ++after.next_part;
        }
      } else {
        drop_parts(model);
        if (x.layout == snapshot_layout::rows)
          write_part(model, 0, rows);
      }
      write_row(model, x);
      txn.commit();
      if (x.layout == snapshot_layout::rows)
        sizes_[model] = after;
      else
        sizes_.erase(model);
      return save_outcome::saved;
    });
  }

  caf::expected<rows_sizes> sizes_of(const std::string& model) override {
    return guarded("reading the rows of '" + model + "'",
                   [&] { return *cached_sizes(model); });
  }

  caf::expected<save_outcome> compact(const std::string& model,
                                      std::uint64_t generation,
                                      const std::atomic<bool>* cancelled) override {
    return guarded("compacting '" + model + "'", [&] {
      // Read and fold outside the write transaction, as the SQLite store
      // does: only this model's owner writes its rows, and the owner is
      // checked again before anything is written.
      auto parts = select_parts(model);
      if (given_up(cancelled))
        return save_outcome::cancelled;
      // Folded where the result holds them, not copied out first.
      std::vector<std::string_view> views;
      views.reserve(static_cast<std::size_t>(parts.rows()));
      for (int i = 0; i < parts.rows(); ++i)
        views.push_back(parts.value(i, 0));
      auto folded = compact_rows(views);
      if (!folded)
        throw storage_error(context_of(folded.error()));
      auto base = std::move(*folded);
      views = {};
      parts = pg_result{};
      if (given_up(cancelled))
        return save_outcome::cancelled;
      transaction txn{*this};
      if (!owns(model, generation))
        return save_outcome::superseded;
      drop_parts(model);
      write_part(model, 0, base);
      txn.commit();
      sizes_[model] = rows_sizes{base.size(), 0, 1};
      return save_outcome::saved;
    });
  }

private:
  // Locks the owner's row until the transaction ends.
  bool owns(const std::string& model, std::uint64_t generation) {
    auto res = run("SELECT generation FROM bus_snapshot_owners WHERE model = $1 "
                   "FOR UPDATE",
                   params{}.text(model), "reading the owner", PGRES_TUPLES_OK);
    return res.rows() == 1 && std::stoull(std::string{res.value(0, 0)}) == generation;
  }

  std::optional<snapshot> read(const std::string& model) {
    auto res = run("SELECT checkpoint, above, definition, state, parked, layout "
                   "FROM bus_snapshots WHERE model = $1",
                   params{}.text(model), "load", PGRES_TUPLES_OK);
    if (res.rows() == 0)
      return std::nullopt;
    snapshot x;
    x.checkpoint = std::stoull(std::string{res.value(0, 0)});
    x.above = split_seqs(std::string{res.value(0, 1)});
    x.definition = res.value(0, 2);
    x.state = res.value(0, 3);
    auto parked = parked_events_from_text(std::string{res.value(0, 4)});
    if (!parked)
      throw storage_error("the parked events of '" + model
                          + "' do not decode: " + context_of(parked.error()));
    x.parked = std::move(*parked);
    auto layout = res.value(0, 5);
    if (layout == "rows") {
      x.layout = snapshot_layout::rows;
      read_rows_text(model, x.state);
    } else if (layout != "whole") {
      throw storage_error("the snapshot of '" + model + "' has an unknown layout '"
                          + std::string{layout} + "' (written by a newer release?)");
    }
    return x;
  }

  // The model's rows: a part a row (column 0), in order.
  pg_result select_parts(const std::string& model) {
    return run("SELECT rows FROM bus_snapshot_rows WHERE model = $1 ORDER BY part",
               params{}.text(model), "reading the rows", PGRES_TUPLES_OK);
  }

  // Appends every part, in order, to `out`: straight from the result into
  // room made once, where parts copied apart and then appended copied the
  // whole text twice more.
  void read_rows_text(const std::string& model, std::string& out) {
    auto res = select_parts(model);
    std::size_t total = out.size();
    for (int i = 0; i < res.rows(); ++i)
      total += res.value(i, 0).size();
    out.reserve(total);
    for (int i = 0; i < res.rows(); ++i)
      out += res.value(i, 0);
  }

  rows_sizes* cached_sizes(const std::string& model) {
    if (auto i = sizes_.find(model); i != sizes_.end())
      return &i->second;
    auto res = run("SELECT part, bytes FROM bus_snapshot_rows WHERE model = $1",
                   params{}.text(model), "reading the rows", PGRES_TUPLES_OK);
    rows_sizes sizes;
    for (int i = 0; i < res.rows(); ++i) {
      auto part = std::stoll(std::string{res.value(i, 0)});
      auto bytes = std::stoull(std::string{res.value(i, 1)});
      (part == 0 ? sizes.base_bytes : sizes.delta_bytes) += bytes;
      sizes.next_part = std::max<std::int64_t>(sizes.next_part, part + 1);
    }
    return &sizes_.emplace(model, sizes).first->second;
  }

  void write_row(const std::string& model, const snapshot& x) {
    auto whole = x.layout == snapshot_layout::whole;
    // Nothing parked is stored as '', as the SQLite store does.
    auto parked = x.parked.empty() ? std::string{} : parked_events_text(x.parked);
    run("INSERT INTO bus_snapshots (model, checkpoint, above, definition, state, "
        "parked, layout) VALUES ($1, $2, $3, $4, $5, $6, $7) "
        "ON CONFLICT (model) DO UPDATE SET checkpoint = EXCLUDED.checkpoint, "
        "above = EXCLUDED.above, definition = EXCLUDED.definition, "
        "state = EXCLUDED.state, parked = EXCLUDED.parked, layout = EXCLUDED.layout",
        params{}
          .text(model)
          .int8(x.checkpoint)
          .text(join_seqs(x.above))
          .text(x.definition)
          .text(whole ? std::string_view{x.state} : std::string_view{})
          .text(parked)
          .text(to_string(x.layout)),
        "save");
  }

  // `rows` as JSON lines: itself when it holds no record row, else its
  // text (kept until the next call).
  const std::string& as_text(const std::string& rows) {
    if (rows.find('\0') == std::string::npos)
      return rows;
    auto text = rows_as_json(rows);
    if (!text)
      throw storage_error(context_of(text.error()));
    text_ = std::move(*text);
    return text_;
  }

  void write_part(const std::string& model, std::int64_t part,
                  const std::string& rows) {
    run("INSERT INTO bus_snapshot_rows (model, part, bytes, rows) "
        "VALUES ($1, $2, $3, $4)",
        params{}
          .text(model)
          .int8(static_cast<std::uint64_t>(part))
          .int8(rows.size())
          .text(rows),
        "saving rows");
  }

  void drop_parts(const std::string& model) {
    run("DELETE FROM bus_snapshot_rows WHERE model = $1", params{}.text(model),
        "dropping rows");
  }

  std::map<std::string, rows_sizes> sizes_;
  std::string text_; // as_text's last result
};

} // namespace

caf::expected<std::unique_ptr<snapshot_store::backend>>
open_postgres_snapshots(const std::string& uri) {
  auto store = std::make_unique<postgres_snapshots>(uri);
  try {
    store->open();
  } catch (const storage_error& ex) {
    return make_error(errc::storage_failed,
                      "snapshots: " + without_password(uri) + ": " + ex.what());
  }
  return std::unique_ptr<snapshot_store::backend>{std::move(store)};
}

} // namespace bus::internal
