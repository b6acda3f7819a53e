#include "bus/sqlite_log.hpp"

#include <algorithm>
#include <chrono>
#include <utility>

#include "internal/id_blocks.hpp"
#include "internal/id_filter.hpp"
#include "internal/read_cache.hpp"
#include "internal/recent_ids.hpp"
#include "internal/sqlite_rows.hpp"
#include "internal/store_lock.hpp"
#include "internal/tail_cache.hpp"
#include "internal/forwarding_vfs.hpp"

namespace bus {

using namespace internal;

sqlite_log::~sqlite_log() {
  // Events appended since the last sync were never acknowledged: they go.
  for (auto* stmt : {insert_, read_, set_indexed_})
    sqlite3_finalize(stmt);
  ids_.reset();
  sqlite3_close_v2(db_);
}

// -- reading ----------------------------------------------------------------------

// Redeliveries of events older than the tail are confirmed by the id
// table, which reads a block of ids; the row of events holding the event
// is up to 48 KiB (some 120,000 instructions a check, against 11,000).
class sqlite_log::id_check {
public:
  /// Given `lookups`, the id table is read in that transaction.
  id_check(const sqlite_log& log, std::string_view id,
           read_transaction* lookups = nullptr)
    : log_(log), id_(id), lookups_(lookups) {
    // nop
  }

  /// Whether the event at `seq` (1 <= seq <= head) has the id.
  bool at(std::uint64_t seq) {
    if (auto* e = log_.tail_->find(seq))
      return e->id == id_;
    // Only durable events leave the tail; the ids not yet in the id table
    // wait in unindexed_ (redeliveries of recent events are checked here).
    auto indexed = log_.indexed_through_;
    if (seq > indexed && seq - indexed <= log_.unindexed_ends_.size()) {
      auto i = static_cast<std::size_t>(seq - indexed - 1);
      auto begin = i == 0 ? 0 : log_.unindexed_ends_[i - 1];
      return std::string_view{log_.unindexed_.data() + begin,
                              log_.unindexed_ends_[i] - begin}
             == id_;
    }
    return on_disk() == seq;
  }

  /// The seq the id table gives the id, 0 when it has none.
  std::uint64_t on_disk() {
    if (!asked_) {
      if (lookups_ != nullptr)
        lookups_->begin();
      on_disk_ = log_.find_on_disk(id_);
      asked_ = true;
    }
    return on_disk_;
  }

private:
  const sqlite_log& log_;
  std::string_view id_;
  read_transaction* lookups_;
  bool asked_ = false;
  std::uint64_t on_disk_ = 0;
};

std::uint64_t sqlite_log::find_on_disk(std::string_view id) const {
  return ids_->find(id);
}

std::optional<std::uint64_t> sqlite_log::find(std::string_view id) const {
  auto h = hash_id(id);
  // Every id not yet on disk is in recent_; the filter has every id.
  id_check check{*this, id};
  auto seq = recent_->find(h, [&](std::uint64_t s) { return check.at(s); });
  if (seq == 0 && filter_->may_contain(h))
    seq = check.on_disk();
  if (seq == 0)
    return std::nullopt;
  return seq;
}

event_batch sqlite_log::read(std::uint64_t from, std::size_t max) const {
  if (from == 0 || from > head_ || max == 0)
    return {};
  if (auto cached = tail_->read(from, max); !cached.empty())
    return cached;
  if (from > durable_head_)
    return {}; // not reached: the tail holds every event not yet written
  // Older than the tail: decoded from the rows, up to the durable head.
  auto end = durable_head_ + 1;
  if (max < min_shared_read) // a point read decodes only itself
    return event_batch{decode_rows(
      from, static_cast<std::size_t>(std::min<std::uint64_t>(max, end - from)))};
  if (auto cached = reads_->read(from, max); !cached.empty())
    return cached;
  auto first = reads_->stretch_of(from);
  auto last = std::min(reads_->stretch_end(from), end);
  return reads_->add(first, decode_rows(first, static_cast<std::size_t>(last - first)),
                     from, max);
}

shared_events sqlite_log::decode_rows(std::uint64_t from, std::size_t n) const {
  reset_on_exit guard{read_};
  sqlite3_bind_int64(read_, 1, static_cast<sqlite3_int64>(from));
  internal::lazy_records events{n};
  while (events.size() < n) {
    auto rc = sqlite3_step(read_);
    if (rc == SQLITE_DONE)
      break;
    if (rc != SQLITE_ROW)
      fail("read");
    auto seq = static_cast<std::uint64_t>(sqlite3_column_int64(read_, 0));
    auto count = static_cast<std::uint64_t>(sqlite3_column_int64(read_, 1));
    auto blob = column_blob(read_, 2);
    record_cursor records{blob.data(), blob.size()};
    for (auto end = seq + count; seq < end && events.size() < n; ++seq) {
      std::string_view body;
      try {
        body = records.next();
      } catch (const storage_error&) {
        throw storage_error("sqlite: the row of seq " + std::to_string(seq)
                            + " is corrupt");
      }
      if (seq >= from)
        events.add(body, seq);
    }
  }
  return events.finish();
}

// -- appending --------------------------------------------------------------------

void sqlite_log::refuse_if_failed() const {
  if (health_.state == store_state::failed)
    throw storage_error(path_ + ": the store failed (" + health_.reason
                        + "): it takes no events until it is reopened (restart the "
                          "node; nothing acknowledged was lost)");
}

append_result sqlite_log::do_append(std::vector<event> batch) {
  refuse_if_failed();
  append_result result;
  result.outcomes.reserve(batch.size());
  auto now = now_ns();
  auto first_new = head_ + 1;
  // Load the filter's blocks for the whole batch at once: the checks then
  // wait for one round of cache misses, not one per event.
  std::vector<std::uint64_t> hashes;
  hashes.reserve(batch.size());
  for (auto& e : batch) {
    hashes.push_back(hash_id(e.id));
    filter_->prefetch(hashes.back());
  }
  // The whole batch goes to one chunk of the tail: one view of it.
  tail_->prepare(first_new, batch.size());
  // The batch's lookups of the id table share one read transaction: one
  // lock and one check of the page cache, not one per id.
  read_transaction lookups{db_};
  // The recent ids' slots are asked for `ahead` events before their lookup,
  // so the lookups overlap their waits for memory (as the memory log's).
  constexpr std::size_t ahead = 16;
  for (std::size_t i = 0; i < std::min(ahead, batch.size()); ++i)
    recent_->prefetch(hashes[i]);
  try {
    for (std::size_t i = 0; i < batch.size(); ++i) {
      auto& e = batch[i];
      auto h = hashes[i];
      if (i + ahead < batch.size())
        recent_->prefetch(hashes[i + ahead]);
      // Events appended earlier in this batch are in the tail already.
      id_check check{*this, e.id, &lookups};
      auto seq = recent_->find(h, [&](std::uint64_t s) { return check.at(s); });
      if (seq == 0 && filter_->may_contain(h))
        seq = check.on_disk(); // a redelivery, or a false positive
      if (seq != 0) {
        result.outcomes.push_back({e.id, seq, true});
        continue;
      }
      e.seq = ++head_;
      if (e.timestamp == 0)
        e.timestamp = now;
      result.outcomes.push_back({e.id, e.seq, false});
      recent_->insert(h, e.seq);
      filter_->add(h);
      tail_->push(std::move(e));
    }
  } catch (...) {
    // Nothing of the batch was appended. Its ids stay in the filter, which
    // only ever says "maybe": the disk says they are new.
    tail_->drop_above(first_new - 1);
    recent_->erase_above(first_new - 1);
    head_ = first_new - 1;
    throw;
  }
  lookups.end();
  if (head_ >= first_new)
    result.appended = tail_->view(first_new, head_);
  if (policy_.mode() != durability::fsync_interval && !syncs_deferred_)
    sync(); // throws having dropped the batch: nothing of it is acknowledged
  return result;
}

void sqlite_log::insert_row(std::uint64_t first, std::uint32_t count,
                            const std::string& blob, const char* what) {
  reset_on_exit guard{insert_};
  sqlite3_bind_int64(insert_, 1, static_cast<sqlite3_int64>(first));
  sqlite3_bind_int64(insert_, 2, count);
  sqlite3_bind_blob(insert_, 3, blob.data(), static_cast<int>(blob.size()),
                    SQLITE_STATIC);
  if (sqlite3_step(insert_) != SQLITE_DONE)
    fail(what);
}

bool sqlite_log::write_pending() {
  row_builder rows{
    [this](std::uint64_t first, std::uint32_t count, const std::string& blob) {
      insert_row(first, count, blob, "append");
    }};
  for (auto seq = durable_head_ + 1; seq <= head_;) {
    auto events = tail_->read(seq, static_cast<std::size_t>(head_ - seq + 1));
    if (events.empty())
      throw storage_error("event seq " + std::to_string(seq)
                          + " is missing from memory");
    for (auto& e : events) {
      rows.add(e);
      unindexed_ += e.id;
      unindexed_ends_.push_back(unindexed_.size());
    }
    seq += events.size();
  }
  rows.flush();
  // Each commit that inserted ids rewrote the id table's last pages (64 KiB
  // each): ids go in groups instead.
  if (unindexed_ends_.size() < index_every_)
    return false;
  write_unindexed();
  return true;
}

void sqlite_log::write_unindexed() {
  std::vector<id_blocks::entry> ids;
  ids.reserve(unindexed_ends_.size());
  std::size_t begin = 0;
  for (auto end : unindexed_ends_) {
    ids.emplace_back(std::string_view{unindexed_.data() + begin, end - begin},
                     indexed_through_ + ids.size() + 1);
    begin = end;
  }
  ids_->insert(ids);
  reset_on_exit guard{set_indexed_};
  sqlite3_bind_int64(set_indexed_, 1,
                     static_cast<sqlite3_int64>(indexed_through_ + ids.size()));
  if (sqlite3_step(set_indexed_) != SQLITE_DONE)
    fail("append: id table");
}

void sqlite_log::drop_pending() noexcept {
  if (head_ == durable_head_)
    return;
  tail_->drop_above(durable_head_);
  recent_->erase_above(durable_head_);
  head_ = durable_head_;
}

namespace {

// A full disk, a lock held too long or no memory leave the file as the last
// commit left it: SQLite rolled the failed one back whole. A failed write
// or fsync leaves it uncertain (store_state::failed).
bool fails_the_store(int rc) {
  switch (rc & 0xff) {
    case SQLITE_IOERR:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return true;
    default:
      return false;
  }
}

// A key this log never wrote already taken (extended codes: a trigger's
// RAISE is a constraint error too, and leaves the store as it was): another
// writer changed the file behind the log, which no longer knows its head.
bool another_writer(int rc) {
  return rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE;
}

} // namespace

void sqlite_log::sync() {
  if (head_ == durable_head_)
    return;
  refuse_if_failed();
  auto start = std::chrono::steady_clock::now();
  auto waiting = unindexed_ends_.size();
  auto indexed = false;
  try {
    exec("BEGIN IMMEDIATE");
    indexed = write_pending();
    exec("COMMIT");
  } catch (const storage_error& ex) {
    unindexed_ends_.resize(waiting);
    unindexed_.resize(waiting == 0 ? 0 : unindexed_ends_.back());
    // The failed call's code, before the rollback replaces it.
    auto rc = sqlite3_extended_errcode(db_);
    if (sqlite3_get_autocommit(db_) == 0)
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    auto lost = head_ - durable_head_;
    drop_pending();
    if (fails_the_store(rc))
      health_ = store_health{store_state::failed, ex.what()};
    else if (another_writer(rc))
      health_ = store_health{store_state::failed,
                             std::string{"another writer changed the log: "}
                               + ex.what()};
    throw storage_error(path_ + ": " + ex.what() + " (the " + std::to_string(lost)
                        + " events appended since the last sync were not stored)");
  }
  timings_.commit.observe(std::chrono::steady_clock::now() - start);
  durable_head_ = head_;
  if (indexed) {
    indexed_through_ += unindexed_ends_.size();
    unindexed_.clear();
    unindexed_ends_.clear();
  }
  tail_->evict(durable_head_);
  // The recent ids are the only index of those not in the id table yet.
  recent_->rotate(indexed_through_);
}

} // namespace bus
