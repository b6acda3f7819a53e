#include "bus/postgres_log.hpp"

#include <algorithm>
#include <chrono>
#include <utility>

#include "internal/event_record.hpp"
#include "internal/pg_fence.hpp"
#include "internal/pg_wire.hpp"
#include "internal/tail_cache.hpp"

namespace bus {

using namespace internal;

namespace {

// At most this many events come back from one read of the database.
constexpr std::size_t max_db_read = tail_cache::default_chunk_events;

// A parameter of a statement, in binary format.
struct pg_params {
  std::vector<std::string> values;
  std::vector<Oid> types;

  void add_int8(std::uint64_t x) {
    values.emplace_back();
    put_be64(values.back(), x);
    types.push_back(pg_int8_oid);
  }

  void add_bytea(std::string_view x) {
    values.emplace_back(x);
    types.push_back(pg_bytea_oid);
  }

  pg_result run(PGconn* conn, const char* sql, const char* what) const {
    std::vector<const char*> data;
    std::vector<int> lengths;
    std::vector<int> formats(values.size(), 1);
    for (auto& v : values) {
      data.push_back(v.data());
      lengths.push_back(static_cast<int>(v.size()));
    }
    return checked(conn,
                   PQexecParams(conn, sql, static_cast<int>(values.size()),
                                types.data(), data.data(), lengths.data(),
                                formats.data(), 1),
                   PGRES_TUPLES_OK, what);
  }
};

// Sends `data` (a whole COPY BINARY stream) through COPY `sql`.
void copy_in(PGconn* conn, const char* sql, const std::string& data, const char* what) {
  checked(conn, PQexec(conn, sql), PGRES_COPY_IN, what);
  if (PQputCopyData(conn, data.data(), static_cast<int>(data.size())) != 1
      || PQputCopyEnd(conn, nullptr) != 1)
    throw pg_error(std::string{what} + ": " + PQerrorMessage(conn), "");
  // The COPY's outcome, then the end of its results.
  auto outcome = pg_result{PQgetResult(conn)};
  while (auto* extra = PQgetResult(conn))
    PQclear(extra);
  checked(conn, outcome.release(), PGRES_COMMAND_OK, what);
}

// The header and trailer of a COPY BINARY stream (the PostgreSQL manual,
// "COPY", binary format).
void begin_copy(std::string& out) {
  out.append("PGCOPY\n\377\r\n\0", 11);
  put_be32(out, 0); // flags
  put_be32(out, 0); // header extension length
}

void end_copy(std::string& out) {
  put_be16(out, 0xffff);
}

} // namespace

// -- reading ----------------------------------------------------------------------

std::unordered_map<std::string, std::uint64_t>
postgres_log::find_in_db(const std::vector<const std::string*>& ids) const {
  std::unordered_map<std::string, std::uint64_t> found;
  if (ids.empty())
    return found;
  if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK)
    fail("find: the connection is lost");
  // One round trip for the whole batch: a bytea[] in the binary array
  // format (ndim, has-null, element type, size, lower bound, elements).
  std::string array;
  put_be32(array, 1);
  put_be32(array, 0);
  put_be32(array, pg_bytea_oid);
  put_be32(array, static_cast<std::uint32_t>(ids.size()));
  put_be32(array, 1);
  for (auto* id : ids) {
    put_be32(array, static_cast<std::uint32_t>(id->size()));
    array += *id;
  }
  pg_params params;
  params.values.push_back(std::move(array));
  params.types.push_back(pg_bytea_array_oid);
  try {
    auto res = params.run(conn_, "SELECT id, seq FROM bus_ids WHERE id = ANY($1)",
                          "find");
    for (int i = 0; i < res.rows(); ++i)
      found.emplace(std::string{res.value(i, 0)}, get_be(res.value(i, 1)));
  } catch (const storage_error& ex) {
    fail(ex.what());
  }
  return found;
}

std::optional<std::uint64_t> postgres_log::find(std::string_view id) const {
  if (auto i = pending_ids_.find(std::string{id}); i != pending_ids_.end())
    return i->second;
  std::string key{id};
  auto found = find_in_db({&key});
  if (found.empty())
    return std::nullopt;
  return found.begin()->second;
}

event_batch postgres_log::read(std::uint64_t from, std::size_t max) const {
  if (from == 0 || from > head_ || max == 0)
    return {};
  if (auto cached = tail_->read(from, max); !cached.empty())
    return cached;
  if (from > durable_head_)
    return {}; // not reached: the tail holds every event not yet committed
  auto n = std::min<std::uint64_t>({max, durable_head_ - from + 1, max_db_read});
  return event_batch{decode_rows(from, static_cast<std::size_t>(n))};
}

shared_events postgres_log::decode_rows(std::uint64_t from, std::size_t n) const {
  if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK)
    fail("read: the connection is lost");
  // The row holding `from`, then the following ones up to the last seq
  // wanted; each row holds one event at least.
  pg_params params;
  params.add_int8(from);
  params.add_int8(from + n - 1);
  params.add_int8(n);
  internal::lazy_records events{n};
  try {
    auto res = params.run(
      conn_,
      "SELECT first_seq, count, events FROM bus_events WHERE first_seq >= "
      "(SELECT coalesce(max(first_seq), 0) FROM bus_events WHERE first_seq <= $1) "
      "AND first_seq <= $2 ORDER BY first_seq LIMIT $3",
      "read");
    for (int row = 0; row < res.rows() && events.size() < n; ++row) {
      auto seq = get_be(res.value(row, 0));
      auto count = get_be(res.value(row, 1));
      auto blob = res.value(row, 2);
      record_cursor records{blob.data(), blob.size()};
      for (auto end = seq + count; seq < end && events.size() < n; ++seq) {
        std::string_view body;
        try {
          body = records.next();
        } catch (const storage_error&) {
          throw storage_error("the row of seq " + std::to_string(seq) + " is corrupt");
        }
        if (seq >= from)
          events.add(body, seq);
      }
    }
    return events.finish();
  } catch (const storage_error& ex) {
    fail(ex.what());
  }
}

// -- appending --------------------------------------------------------------------

append_result postgres_log::do_append(std::vector<event> batch) {
  // A lost connection is tried again here; a fenced log tries its commit
  // (the lease may be its own again).
  recover();
  append_result result;
  result.outcomes.reserve(batch.size());
  // The ids the database may hold: looked up together, in one round trip.
  std::vector<const std::string*> unknown;
  for (auto& e : batch)
    if (pending_ids_.count(e.id) == 0)
      unknown.push_back(&e.id);
  std::unordered_map<std::string, std::uint64_t> in_db;
  try {
    in_db = find_in_db(unknown);
  } catch (const storage_error& ex) {
    if (PQstatus(conn_) == CONNECTION_OK)
      throw;
    // The session died while idle (a restarted server is noticed only
    // now): one more connection, before anything of the batch was done.
    health_ = store_health{store_state::failed, ex.what()};
    recover();
    in_db = find_in_db(unknown);
  }
  auto now = now_ns();
  auto first_new = head_ + 1;
  tail_->prepare(first_new, batch.size());
  for (auto& e : batch) {
    std::uint64_t seq = 0;
    if (auto i = pending_ids_.find(e.id); i != pending_ids_.end())
      seq = i->second; // earlier in this batch, or not yet committed
    else if (auto j = in_db.find(e.id); j != in_db.end())
      seq = j->second;
    if (seq != 0) {
      result.outcomes.push_back({e.id, seq, true});
      continue;
    }
    e.seq = ++head_;
    if (e.timestamp == 0)
      e.timestamp = now;
    result.outcomes.push_back({e.id, e.seq, false});
    pending_ids_.emplace(e.id, e.seq);
    tail_->push(std::move(e));
  }
  if (head_ >= first_new)
    result.appended = tail_->view(first_new, head_);
  if (policy_.mode() != durability::fsync_interval && !syncs_deferred_)
    sync(); // throws having dropped the batch: nothing of it is acknowledged
  return result;
}

void postgres_log::check_fence() {
  internal::check_fence(conn_, *options_.fence);
}

void postgres_log::write_pending() {
  std::string rows;
  std::string ids;
  begin_copy(rows);
  begin_copy(ids);
  std::string blob;
  std::uint64_t first = 0;
  std::uint32_t count = 0;
  auto flush = [&] {
    if (count == 0)
      return;
    put_be16(rows, 3);
    put_be32(rows, 8);
    put_be64(rows, first);
    put_be32(rows, 4);
    put_be32(rows, count);
    put_be32(rows, static_cast<std::uint32_t>(blob.size()));
    rows += blob;
    blob.clear();
    count = 0;
  };
  for (auto seq = durable_head_ + 1; seq <= head_;) {
    auto events = tail_->read(seq, static_cast<std::size_t>(head_ - seq + 1));
    if (events.empty())
      throw storage_error("event seq " + std::to_string(seq)
                          + " is missing from memory");
    for (auto& e : events) {
      if (count == 0)
        first = e.seq;
      encode_event(e, blob);
      if (++count == pg_row_max_events || blob.size() >= pg_row_max_bytes)
        flush();
      put_be16(ids, 2);
      put_be32(ids, static_cast<std::uint32_t>(e.id.size()));
      ids += e.id;
      put_be32(ids, 8);
      put_be64(ids, e.seq);
    }
    seq += events.size();
  }
  flush();
  end_copy(rows);
  end_copy(ids);
  // The rows first: a writer behind the head collides on the first row's
  // key whatever ids it carries.
  copy_in(conn_, "COPY bus_events (first_seq, count, events) FROM STDIN BINARY", rows,
          "append");
  copy_in(conn_, "COPY bus_ids (id, seq) FROM STDIN BINARY", ids, "append");
}

void postgres_log::drop_pending() noexcept {
  pending_ids_.clear();
  if (head_ == durable_head_)
    return;
  tail_->drop_above(durable_head_);
  head_ = durable_head_;
}

void postgres_log::sync() {
  if (lost_pending_ > 0) {
    auto lost = std::exchange(lost_pending_, 0) + (head_ - durable_head_);
    drop_pending();
    throw storage_error(name_ + ": the connection was lost before a commit (the "
                        + std::to_string(lost)
                        + " events appended since the last sync were not stored)");
  }
  if (head_ == durable_head_)
    return;
  auto start = std::chrono::steady_clock::now();
  try {
    if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK)
      throw storage_error("the connection is lost");
    exec("BEGIN", "append");
    if (options_.fence)
      check_fence();
    write_pending();
    exec("COMMIT", "append");
  } catch (const storage_error& ex) {
    auto lost = head_ - durable_head_;
    drop_pending();
    std::string what = ex.what();
    auto connected = conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK;
    if (connected && PQtransactionStatus(conn_) != PQTRANS_IDLE)
      PQclear(PQexec(conn_, "ROLLBACK"));
    auto* failure = dynamic_cast<const pg_error*>(&ex);
    if (dynamic_cast<const fence_lost*>(&ex) != nullptr) {
      health_ = store_health{store_state::fenced, what};
    } else if (!connected) {
      health_ = store_health{store_state::failed, what};
      what += " (the connection is lost; the next append reconnects)";
    } else if (failure != nullptr && failure->sqlstate() == pg_unique_violation) {
      // Another writer appended from the same head: take its events in.
      auto mine = durable_head_;
      try {
        load_head();
        what = "another writer appended to the log (" + what + "); the head moved from "
               + std::to_string(mine) + " to " + std::to_string(head_);
      } catch (const storage_error& reload) {
        health_ = store_health{store_state::failed, reload.what()};
        what += std::string{"; reloading the head failed: "} + reload.what();
      }
    }
    throw storage_error(name_ + ": " + what + " (the " + std::to_string(lost)
                        + " events appended since the last sync were not stored)");
  }
  timings_.commit.observe(std::chrono::steady_clock::now() - start);
  durable_head_ = head_;
  pending_ids_.clear();
  tail_->evict(durable_head_);
  if (health_.state == store_state::fenced)
    health_ = store_health{};
}

} // namespace bus
