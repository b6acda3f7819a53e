#pragma once

// The durable log's id table (sqlite_log): every indexed id with its seq,
// in blocks of up to block_max_ids ids, one SQLite row per block.
//
// A row per id cost SQLite about 3,100 instructions each (its VM, the
// record, the B-tree insert), a quarter of the durable node's CPU at 1 M
// events. A block costs that once for some hundred ids. Blocks hold the ids
// in key order (size in bytes, then bytes) and are keyed by their first
// id, so a lookup is one seek to the block at or before the id and a scan
// of that block. Ids that grow in order (counters, clocks) only ever reach
// the last block: it is rewritten and new full blocks follow it. Ids that
// land between others rewrite the blocks they land in, split in halves
// when full, so that no block shrinks to a few ids.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <sqlite3.h>

namespace bus::internal {

class id_blocks {
public:
  using entry = std::pair<std::string_view, std::uint64_t>;

  /// A block holds at most this many ids and is cut once about this many
  /// bytes: a lookup decodes little, and an insert amortizes SQLite's
  /// per-row cost.
  static constexpr std::size_t block_max_ids = 128;
  static constexpr std::size_t block_max_bytes = 4096;

  /// The table's definition (its name: id_blocks).
  static const char* schema() noexcept;

  /// Prepares the statements on `db`, whose schema holds the table.
  explicit id_blocks(sqlite3* db);

  id_blocks(const id_blocks&) = delete;
  id_blocks& operator=(const id_blocks&) = delete;

  ~id_blocks();

  /// Returns the seq of `id`, 0 if the table does not hold it. Throws
  /// storage_error if SQLite fails or a block is corrupt.
  std::uint64_t find(std::string_view id) const;

  /// Adds `ids`, none held already, within the caller's transaction;
  /// sorts them into key order first (id_key_less) unless they are.
  /// Throws storage_error if SQLite fails or a block is corrupt.
  void insert(std::vector<entry>& ids);

  /// The number of ids the table holds.
  std::uint64_t count() const;

private:
  // A block the inserted ids land in, read before any row is written.
  struct touched {
    std::string first; // its key; empty for a new block
    std::string ids;   // its encoded entries
    std::size_t begin; // its share of the inserted ids
    std::size_t end;
    bool last; // no block after it
  };

  std::vector<touched> read_touched(const std::vector<entry>& ids) const;
  void rewrite(const touched& block, const std::vector<entry>& ids);
  void write_block(const entry* first, std::size_t n);
  [[noreturn]] void fail(const char* what) const;

  sqlite3* db_;
  sqlite3_stmt* find_ = nullptr;
  sqlite3_stmt* floor_ = nullptr;
  sqlite3_stmt* walk_ = nullptr;
  sqlite3_stmt* erase_ = nullptr;
  sqlite3_stmt* add_ = nullptr;
  sqlite3_stmt* count_ = nullptr;
  std::string key_;  // scratch: an encoded key
  std::string blob_; // scratch: an encoded block
};

} // namespace bus::internal
