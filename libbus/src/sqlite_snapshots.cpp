// The SQLite backend of snapshot_store (snapshot_store.hpp has the schema
// and the semantics).

#include <sqlite3.h>

#include <algorithm>
#include <map>
#include <string_view>
#include <vector>

#include "bus/errc.hpp"
#include "bus/snapshot_rows.hpp"
#include "internal/seq_list.hpp"
#include "internal/sqlite_snapshots.hpp"

namespace bus::internal {

using namespace snapshot_sql;

caf::error sqlite_snapshots::exec(const char* sql, const std::string& what) {
  if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK)
    return sqlite_error(db_, what);
  return caf::none;
}

caf::expected<bool> sqlite_snapshots::owns(const std::string& model,
                                           std::uint64_t generation) {
  statement s;
  if (sqlite3_prepare_v2(db_, "SELECT generation FROM snapshot_owners WHERE model = ?",
                         -1, &s.stmt, nullptr)
      != SQLITE_OK)
    return sqlite_error(db_, "reading the owner of '" + model + "'");
  bind_text(s.stmt, 1, model);
  auto rc = sqlite3_step(s.stmt);
  if (rc == SQLITE_DONE)
    return false;
  if (rc != SQLITE_ROW)
    return sqlite_error(db_, "reading the owner of '" + model + "'");
  return static_cast<std::uint64_t>(sqlite3_column_int64(s.stmt, 0)) == generation;
}

caf::expected<sqlite_snapshots::rows_text>
sqlite_snapshots::read_parts(const std::string& model) {
  statement s;
  if (sqlite3_prepare_v2(db_,
                         "SELECT rowid, bytes FROM snapshot_rows WHERE model = ? "
                         "ORDER BY part",
                         -1, &s.stmt, nullptr)
      != SQLITE_OK)
    return sqlite_error(db_, "reading the rows of '" + model + "'");
  bind_text(s.stmt, 1, model);
  std::vector<std::pair<sqlite3_int64, std::size_t>> found;
  std::size_t total = 0;
  int rc;
  while ((rc = sqlite3_step(s.stmt)) == SQLITE_ROW) {
    auto bytes = static_cast<std::size_t>(sqlite3_column_int64(s.stmt, 1));
    found.emplace_back(sqlite3_column_int64(s.stmt, 0), bytes);
    total += bytes;
  }
  if (rc != SQLITE_DONE)
    return sqlite_error(db_, "reading the rows of '" + model + "'");
  // Straight into one buffer: a column's text would be assembled from its
  // pages first, then copied again. A load keeps the buffer as the
  // snapshot's text, where appending the parts to it copied them all once
  // more into fresh memory.
  rows_text result;
  result.bytes.resize(total);
  auto* at = result.bytes.data();
  for (auto [rowid, bytes] : found) {
    sqlite3_blob* blob = nullptr;
    auto ok = sqlite3_blob_open(db_, "main", "snapshot_rows", "rows", rowid, 0, &blob)
                == SQLITE_OK
              && static_cast<std::size_t>(sqlite3_blob_bytes(blob)) == bytes
              && sqlite3_blob_read(blob, at, static_cast<int>(bytes), 0) == SQLITE_OK;
    sqlite3_blob_close(blob);
    if (!ok)
      return make_error(errc::storage_failed,
                        "snapshots: the rows of '" + model + "' do not read back");
    result.sizes.push_back(bytes);
    at += bytes;
  }
  return result;
}

std::vector<std::string_view> sqlite_snapshots::rows_text::parts() const {
  std::vector<std::string_view> result;
  result.reserve(sizes.size());
  std::size_t at = 0;
  for (auto size : sizes) {
    result.emplace_back(bytes.data() + at, size);
    at += size;
  }
  return result;
}

caf::expected<std::optional<snapshot>>
sqlite_snapshots::read(const std::string& model) {
  statement s;
  if (sqlite3_prepare_v2(db_,
                         "SELECT checkpoint, above, definition, state, parked, layout "
                         "FROM snapshots WHERE model = ?",
                         -1, &s.stmt, nullptr)
      != SQLITE_OK)
    return sqlite_error(db_, "load");
  bind_text(s.stmt, 1, model);
  auto rc = sqlite3_step(s.stmt);
  if (rc == SQLITE_DONE)
    return std::optional<snapshot>{};
  if (rc != SQLITE_ROW)
    return sqlite_error(db_, "load");
  snapshot x;
  x.checkpoint = static_cast<std::uint64_t>(sqlite3_column_int64(s.stmt, 0));
  x.above = internal::split_seqs(column_text(s.stmt, 1));
  x.definition = column_text(s.stmt, 2);
  x.state = column_text(s.stmt, 3);
  auto parked = parked_events_from_text(column_text(s.stmt, 4));
  if (!parked)
    return make_error(errc::storage_failed,
                      "snapshots: the parked events of '" + model
                        + "' do not decode: " + context_of(parked.error()));
  x.parked = std::move(*parked);
  auto layout = column_text(s.stmt, 5);
  if (layout == "rows") {
    x.layout = snapshot_layout::rows;
    auto rows = read_parts(model);
    if (!rows)
      return std::move(rows.error());
    x.state = std::move(rows->bytes);
  } else if (layout != "whole") {
    return make_error(errc::storage_failed, "snapshots: the snapshot of '" + model
                                              + "' has an unknown layout '" + layout
                                              + "' (written by a newer release?)");
  }
  return std::optional<snapshot>{std::move(x)};
}

caf::expected<std::optional<snapshot>>
sqlite_snapshots::load(const std::string& model) {
  // One read transaction: the row and its rows of the same commit.
  if (auto err = exec("BEGIN", "load"))
    return err;
  transaction txn{db_};
  return read(model);
}

caf::expected<snapshot_claim> sqlite_snapshots::claim(const std::string& model) {
  std::lock_guard<std::mutex> turn{*turn_};
  if (auto err = exec("BEGIN IMMEDIATE", "claiming '" + model + "'"))
    return err;
  transaction txn{db_};
  statement bump;
  if (sqlite3_prepare_v2(
        db_,
        "INSERT INTO snapshot_owners (model, generation) VALUES (?, 1) "
        "ON CONFLICT (model) DO UPDATE SET generation = generation + 1 "
        "RETURNING generation",
        -1, &bump.stmt, nullptr)
      != SQLITE_OK)
    return sqlite_error(db_, "claiming '" + model + "'");
  bind_text(bump.stmt, 1, model);
  if (sqlite3_step(bump.stmt) != SQLITE_ROW)
    return sqlite_error(db_, "claiming '" + model + "'");
  snapshot_claim result;
  result.generation = static_cast<std::uint64_t>(sqlite3_column_int64(bump.stmt, 0));
  sqlite3_reset(bump.stmt);
  auto stored = read(model);
  if (!stored)
    return std::move(stored.error());
  result.stored = std::move(*stored);
  if (auto err = exec("COMMIT", "claiming '" + model + "'"))
    return err;
  txn.done = true;
  // Another connection may have written this model's rows before the claim.
  sizes_.erase(model);
  return result;
}

caf::expected<bool> sqlite_snapshots::has_rows(const std::string& model) {
  statement s;
  if (sqlite3_prepare_v2(db_, "SELECT layout FROM snapshots WHERE model = ?", -1,
                         &s.stmt, nullptr)
      != SQLITE_OK)
    return sqlite_error(db_, "save");
  bind_text(s.stmt, 1, model);
  auto rc = sqlite3_step(s.stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return sqlite_error(db_, "save");
  return rc == SQLITE_ROW && column_text(s.stmt, 0) == "rows";
}

caf::expected<sqlite_snapshots::rows_sizes*>
sqlite_snapshots::cached_sizes(const std::string& model) {
  if (auto i = sizes_.find(model); i != sizes_.end())
    return &i->second;
  statement s;
  if (sqlite3_prepare_v2(db_, "SELECT part, bytes FROM snapshot_rows WHERE model = ?",
                         -1, &s.stmt, nullptr)
      != SQLITE_OK)
    return sqlite_error(db_, "reading the rows of '" + model + "'");
  bind_text(s.stmt, 1, model);
  rows_sizes sizes;
  int rc;
  while ((rc = sqlite3_step(s.stmt)) == SQLITE_ROW) {
    auto part = sqlite3_column_int64(s.stmt, 0);
    auto bytes = static_cast<std::uint64_t>(sqlite3_column_int64(s.stmt, 1));
    (part == 0 ? sizes.base_bytes : sizes.delta_bytes) += bytes;
    sizes.next_part = std::max<std::int64_t>(sizes.next_part, part + 1);
  }
  if (rc != SQLITE_DONE)
    return sqlite_error(db_, "reading the rows of '" + model + "'");
  return &sizes_.emplace(model, sizes).first->second;
}

caf::error sqlite_snapshots::write_row(const std::string& model, const snapshot& x) {
  statement s;
  if (sqlite3_prepare_v2(db_,
                         "INSERT OR REPLACE INTO snapshots (model, checkpoint, above, "
                         "definition, state, parked, layout) VALUES (?,?,?,?,?,?,?)",
                         -1, &s.stmt, nullptr)
      != SQLITE_OK)
    return sqlite_error(db_, "save");
  auto above = internal::join_seqs(x.above);
  // Nothing parked is stored as '', as in a row written before parking.
  auto parked = x.parked.empty() ? std::string{} : parked_events_text(x.parked);
  auto whole = x.layout == snapshot_layout::whole;
  bind_text(s.stmt, 1, model);
  sqlite3_bind_int64(s.stmt, 2, static_cast<sqlite3_int64>(x.checkpoint));
  bind_text(s.stmt, 3, above);
  bind_text(s.stmt, 4, x.definition);
  bind_text(s.stmt, 5, whole ? std::string_view{x.state} : std::string_view{});
  bind_text(s.stmt, 6, parked);
  bind_text(s.stmt, 7, to_string(x.layout));
  if (sqlite3_step(s.stmt) != SQLITE_DONE)
    return sqlite_error(db_, "save");
  return caf::none;
}

caf::error sqlite_snapshots::write_part(const std::string& model, std::int64_t part,
                                        const std::string& rows) {
  statement s;
  if (sqlite3_prepare_v2(db_,
                         "INSERT INTO snapshot_rows (model, part, bytes, rows) "
                         "VALUES (?,?,?,?)",
                         -1, &s.stmt, nullptr)
      != SQLITE_OK)
    return sqlite_error(db_, "save");
  bind_text(s.stmt, 1, model);
  sqlite3_bind_int64(s.stmt, 2, part);
  sqlite3_bind_int64(s.stmt, 3, static_cast<sqlite3_int64>(rows.size()));
  // A blob: record rows hold bytes 0 (snapshot_rows.hpp), which SQLite's
  // text functions would cut at; JSON rows read back alike either way.
  sqlite3_bind_blob64(s.stmt, 4, rows.data(), rows.size(), SQLITE_STATIC);
  if (sqlite3_step(s.stmt) != SQLITE_DONE)
    return sqlite_error(db_, "saving rows of '" + model + "'");
  return caf::none;
}

caf::error sqlite_snapshots::drop_parts(const std::string& model) {
  statement s;
  if (sqlite3_prepare_v2(db_, "DELETE FROM snapshot_rows WHERE model = ?", -1, &s.stmt,
                         nullptr)
      != SQLITE_OK)
    return sqlite_error(db_, "save");
  bind_text(s.stmt, 1, model);
  if (sqlite3_step(s.stmt) != SQLITE_DONE)
    return sqlite_error(db_, "dropping the rows of '" + model + "'");
  return caf::none;
}

caf::expected<save_outcome> sqlite_snapshots::save(const std::string& model,
                                                   const snapshot& x,
                                                   std::uint64_t generation,
                                                   rows_write how) {
  std::lock_guard<std::mutex> turn{*turn_};
  if (auto err = exec("BEGIN IMMEDIATE", "save"))
    return err;
  transaction txn{db_};
  auto mine = owns(model, generation);
  if (!mine)
    return std::move(mine.error());
  if (!*mine)
    return save_outcome::superseded;
  auto delta = x.layout == snapshot_layout::rows && how == rows_write::delta;
  rows_sizes after{x.state.size(), 0, 1};
  if (delta) {
    // A delta follows the rows its projector wrote or restored; with
    // anything else stored it would describe another state.
    auto rows = has_rows(model);
    if (!rows)
      return std::move(rows.error());
    if (!*rows)
      return make_error(errc::storage_failed,
                        "snapshots: a delta of '" + model + "' without its rows");
    auto sizes = cached_sizes(model);
    if (!sizes)
      return std::move(sizes.error());
    after = **sizes;
    if (!x.state.empty()) {
      if (auto err = write_part(model, after.next_part, x.state))
        return err;
      after.delta_bytes += x.state.size();
      ++after.next_part;
    }
  } else {
    if (auto err = drop_parts(model))
      return err;
    if (x.layout == snapshot_layout::rows)
      if (auto err = write_part(model, 0, x.state))
        return err;
  }
  if (auto err = write_row(model, x))
    return err;
  if (auto err = exec("COMMIT", "save"))
    return err;
  txn.done = true;
  if (x.layout == snapshot_layout::rows)
    sizes_[model] = after;
  else
    sizes_.erase(model);
  return save_outcome::saved;
}

caf::expected<snapshot_store::backend::rows_sizes>
sqlite_snapshots::sizes_of(const std::string& model) {
  auto sizes = cached_sizes(model);
  if (!sizes)
    return std::move(sizes.error());
  return **sizes;
}

caf::expected<save_outcome>
sqlite_snapshots::compact(const std::string& model, std::uint64_t generation,
                          const std::atomic<bool>* cancelled) {
  // Read and fold outside the write transaction, so that other models'
  // writers need not wait for the fold: only this model's owner writes its
  // rows, and the owner is checked again before anything is written.
  auto rows = read_parts(model);
  if (!rows)
    return std::move(rows.error());
  if (given_up(cancelled))
    return save_outcome::cancelled;
  auto base = compact_rows(rows->parts());
  if (!base)
    return std::move(base.error());
  *rows = rows_text{};
  if (given_up(cancelled))
    return save_outcome::cancelled;
  std::lock_guard<std::mutex> turn{*turn_};
  if (auto err = exec("BEGIN IMMEDIATE", "compacting '" + model + "'"))
    return err;
  transaction txn{db_};
  auto mine = owns(model, generation);
  if (!mine)
    return std::move(mine.error());
  if (!*mine)
    return save_outcome::superseded;
  if (auto err = drop_parts(model))
    return err;
  if (auto err = write_part(model, 0, *base))
    return err;
  if (auto err = exec("COMMIT", "compacting '" + model + "'"))
    return err;
  txn.done = true;
  sizes_[model] = rows_sizes{base->size(), 0, 1};
  return save_outcome::saved;
}

} // namespace bus::internal
