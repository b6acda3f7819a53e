#pragma once

// The durable event log on SQLite (WAL mode). Each row holds the compact
// records of consecutive events (see src/internal/event_record.hpp) under
// the seq of its first one. Ids are kept unique by an index on disk (the
// `id_blocks` table, some hundred ids per row), with a Bloom filter of every id and an
// exact index of the recent ones in memory in front of it: a new id costs no disk
// access, a redelivery of an old one one indexed lookup. The id table is derived from
// the rows, so it may lag behind them: the ids of the last `index_every` events or
// fewer wait in memory and go to disk together, in the transaction of a sync (one page
// written per group of ids, not one per commit), and an open indexes whatever a crash
// left unindexed. The recent tail is also kept as events in memory; a read of older
// seqs decodes its stretch of the rows once, for every reader of it. So the memory the
// log takes is bounded by its tail and the ids not yet indexed, plus 1.5 bytes per id
// for the filter. Appended batches reach SQLite at sync(), committed together in one
// transaction: under fsync_each_batch and os_buffered append() syncs
// itself, so a batch is acknowledged once append() returns; under
// fsync_interval the owner calls sync() every interval (the bus actor
// sooner, once bus_options::sync_after_events wait) and acknowledges
// nothing past durable_head() before. An owner that asks
// (defer_syncs(), as the bus actor does) syncs under the other two
// policies too, covering all it appended meanwhile. Reopening the same file
// gives back every durable event. A commit that fails on a write or an
// fsync fails the store (store_state::failed): it takes nothing more until
// it is reopened. Stores in the layouts of earlier releases
// are migrated on open. One log per file: while a log is open, another
// open of its file, in this process or another, is refused (an advisory
// lock on PATH.lock, see src/internal/store_lock.hpp). Owned by one actor
// at a time; not thread-safe.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <caf/expected.hpp>

#include "bus/event_log.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace bus::internal {
class id_blocks;
class id_filter;
class read_cache;
class recent_ids;
class tail_cache;
class forwarding_vfs;
class store_lock;
} // namespace bus::internal

namespace bus {

/// When appended events reach the disk, and so when they count as
/// acknowledged.
class durability {
public:
  enum mode_type : std::uint8_t {
    /// fsync at every appended batch (synchronous=FULL): survives a power
    /// loss.
    fsync_each_batch,
    /// Leave it to the OS (synchronous=NORMAL in WAL): survives a crash of
    /// the process, may lose the last batches on a power loss.
    os_buffered,
    /// Group commit: the batches appended within an interval are committed
    /// together with one fsync, at most once per interval. Survives a power
    /// loss; a batch is acknowledged only once that fsync covers it.
    fsync_interval,
  };

  /// The policy `mode` (for fsync_interval, with an interval of 10 ms).
  durability(mode_type mode = fsync_each_batch) noexcept;

  /// One fsync for what `interval` brings (fsync_interval).
  static durability every(std::chrono::milliseconds interval) noexcept;

  mode_type mode() const noexcept { return mode_; }

  /// The group-commit interval (fsync_interval only; zero otherwise).
  std::chrono::milliseconds interval() const noexcept { return interval_; }

  friend bool operator==(durability x, durability y) noexcept {
    return x.mode_ == y.mode_ && x.interval_ == y.interval_;
  }

  friend bool operator!=(durability x, durability y) noexcept { return !(x == y); }

private:
  mode_type mode_;
  std::chrono::milliseconds interval_;
};

/// Returns "fsync", "os" or "interval:N" (N in ms), as parse_durability
/// accepts them.
std::string to_string(durability x);

/// Parses "fsync", "os" or "interval:N" with N a whole number of
/// milliseconds from 1 to 60000.
caf::expected<durability> parse_durability(const std::string& text);

class sqlite_log final : public event_log {
public:
  /// Events of the recent tail kept in memory by default.
  static constexpr std::size_t default_tail_events = 16384;

  /// Events whose ids go to the id table together by default.
  static constexpr std::size_t default_index_every = 65536;

  /// Opens (or creates) the store at `path`, migrating a store of an older
  /// layout, keeping at least the last `tail_events` events in memory and
  /// writing the ids of `index_every` events at a time (at least 1) to the
  /// id table. Errors name the file; a file another open log holds is
  /// refused ("the store is in use by another process (pid N) ...").
  static caf::expected<std::shared_ptr<sqlite_log>>
  open(const std::string& path, durability policy = durability::fsync_each_batch,
       std::size_t tail_events = default_tail_events,
       std::size_t index_every = default_index_every);

  ~sqlite_log() override;

  sqlite_log(const sqlite_log&) = delete;
  sqlite_log& operator=(const sqlite_log&) = delete;

  std::optional<std::uint64_t> find(std::string_view id) const override;
  event_batch read(std::uint64_t from, std::size_t max) const override;
  std::uint64_t head() const noexcept override { return head_; }
  std::uint64_t durable_head() const noexcept override { return durable_head_; }
  void sync() override;
  std::chrono::milliseconds sync_interval() const noexcept override {
    return policy_.interval();
  }
  bool defer_syncs() noexcept override {
    syncs_deferred_ = true;
    return true;
  }

  /// Returns the policy the store was opened with.
  durability policy() const noexcept { return policy_; }

  /// Commit and fsync times of this store (see store_timings).
  store_timings timings() const override { return timings_; }

  /// Failed once a commit failed on a write or an fsync (see store_state);
  /// a full disk leaves it healthy.
  store_health health() const override { return health_; }

protected:
  append_result do_append(std::vector<event> batch) override;

private:
  sqlite_log(std::string path, durability policy, std::size_t tail_events,
             std::size_t index_every);

  // Opening (sqlite_log_open.cpp).
  void open_db();
  void prepare_statements();
  void load();
  void migrate_old_layout();
  void index_ids();
  void migrate_id_rows();
  void exec(const char* sql) const;
  [[noreturn]] void fail(const std::string& what) const;

  /// One lookup of an id: whether a candidate seq holds it. The id
  /// table's answer is asked once per lookup, for the candidates whose
  /// events are neither in the tail nor waiting for the id table.
  class id_check;

  /// Decodes up to `n` durable events from `from` on.
  shared_events decode_rows(std::uint64_t from, std::size_t n) const;

  /// Returns the seq the id table gives `id`, 0 when it has none.
  std::uint64_t find_on_disk(std::string_view id) const;

  /// Writes the events past durable_head_ (in a transaction opened by the
  /// caller), and the ids waiting for the id table once they are
  /// index_every_ or more. Returns whether it wrote them.
  bool write_pending();

  /// Inserts the ids waiting in unindexed_ into the id table and records
  /// up to which seq it holds every id.
  void write_unindexed();

  /// Inserts a row of `count` records from seq `first` on; `what` names
  /// the operation in the error.
  void insert_row(std::uint64_t first, std::uint32_t count, const std::string& blob,
                  const char* what);

  /// Forgets every appended event past durable_head_.
  void drop_pending() noexcept;

  /// Throws the storage_error that refuses appends to a failed store.
  void refuse_if_failed() const;

  std::string path_;
  /// Keeps every other log off the file while this one is open.
  std::unique_ptr<internal::store_lock> lock_;
  durability policy_;
  // Set by defer_syncs(): the owner syncs, append() never does.
  bool syncs_deferred_ = false;
  store_timings timings_;
  store_health health_;
  /// Times the fsyncs of this store's files into timings_.fsync (the
  /// destructor closes db_, which uses it, before it goes).
  std::unique_ptr<internal::forwarding_vfs> vfs_;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
  sqlite3_stmt* read_ = nullptr;
  sqlite3_stmt* set_indexed_ = nullptr;
  /// The id table (its statements finalized before db_ closes).
  std::unique_ptr<internal::id_blocks> ids_;
  /// Every id of the log, in front of the id table.
  std::unique_ptr<internal::id_filter> filter_;
  /// The ids of the tail and of every event not yet in the id table.
  std::unique_ptr<internal::recent_ids> recent_;
  /// The ids of the durable events past indexed_through_, back to back
  /// (each ends at unindexed_ends_[seq - indexed_through_ - 1]).
  std::string unindexed_;
  std::vector<std::size_t> unindexed_ends_;
  std::size_t index_every_;
  /// The recent events, and every event not yet written.
  std::unique_ptr<internal::tail_cache> tail_;
  /// Stretches older than the tail decoded lately, shared by their readers.
  std::unique_ptr<internal::read_cache> reads_;
  std::uint64_t head_ = 0;
  std::uint64_t durable_head_ = 0;
  /// The id table holds the id of every seq up to here, and no other.
  std::uint64_t indexed_through_ = 0;
};

} // namespace bus
