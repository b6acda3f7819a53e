#include "internal/id_blocks.hpp"

#include <algorithm>
#include <cstring>

#include "bus/event_log.hpp"
#include "internal/event_record.hpp"
#include "internal/sqlite_rows.hpp"

namespace bus::internal {

namespace {

// A block's key: the size of its first id (4 bytes, big endian), then the
// id. Compared as bytes, keys order as id_key_less orders the ids.
void encode_key(std::string_view id, std::string& out) {
  out.clear();
  auto n = static_cast<std::uint32_t>(id.size());
  for (int shift = 24; shift >= 0; shift -= 8)
    out += static_cast<char>((n >> shift) & 0xff);
  out.append(id.data(), id.size());
}

std::string_view key_id(std::string_view key) {
  if (key.size() < 4)
    throw storage_error("sqlite: corrupt id table: a block key of "
                        + std::to_string(key.size()) + " bytes");
  return key.substr(4);
}

// Reads the entry at the front of `blob` (the id a view into it) and
// drops it from `blob`.
id_blocks::entry take_entry(std::string_view& blob) {
  auto size = take_varint(blob);
  if (size > blob.size())
    throw storage_error("sqlite: corrupt id table: an id runs past its block");
  auto id = blob.substr(0, static_cast<std::size_t>(size));
  blob.remove_prefix(static_cast<std::size_t>(size));
  return {id, take_varint(blob)};
}

// Decodes a block's entries (views into `blob`) onto `out`.
void decode_block(std::string_view blob, std::vector<id_blocks::entry>& out) {
  while (!blob.empty())
    out.push_back(take_entry(blob));
}

bool key_less(const id_blocks::entry& x, const id_blocks::entry& y) noexcept {
  return id_key_less(x.first, y.first);
}

void bind_blob(sqlite3_stmt* stmt, int i, const std::string& x) {
  sqlite3_bind_blob(stmt, i, x.data(), static_cast<int>(x.size()), SQLITE_STATIC);
}

} // namespace

const char* id_blocks::schema() noexcept {
  return R"sql(
CREATE TABLE IF NOT EXISTS id_blocks (
  first BLOB    PRIMARY KEY,
  n     INTEGER NOT NULL,
  ids   BLOB    NOT NULL
) WITHOUT ROWID;
)sql";
}

id_blocks::id_blocks(sqlite3* db) : db_(db) {
  auto prepare = [&](const char* sql, sqlite3_stmt** stmt) {
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt, nullptr)
        != SQLITE_OK)
      fail("prepare");
  };
  prepare("SELECT ids FROM id_blocks WHERE first <= ?1 ORDER BY first DESC LIMIT 1",
          &find_);
  prepare("SELECT first FROM id_blocks WHERE first <= ?1 ORDER BY first DESC LIMIT 1",
          &floor_);
  prepare("SELECT first, ids FROM id_blocks WHERE first >= ?1 ORDER BY first", &walk_);
  prepare("DELETE FROM id_blocks WHERE first = ?1", &erase_);
  prepare("INSERT INTO id_blocks (first, n, ids) VALUES (?1, ?2, ?3)", &add_);
  prepare("SELECT coalesce(sum(n), 0) FROM id_blocks", &count_);
}

id_blocks::~id_blocks() {
  for (auto* stmt : {find_, floor_, walk_, erase_, add_, count_})
    sqlite3_finalize(stmt);
}

std::uint64_t id_blocks::find(std::string_view id) const {
  std::string key;
  encode_key(id, key);
  reset_on_exit guard{find_};
  bind_blob(find_, 1, key);
  auto rc = sqlite3_step(find_);
  if (rc == SQLITE_DONE)
    return 0;
  if (rc != SQLITE_ROW)
    fail("find");
  auto blob = column_blob(find_, 0);
  // One comparison per entry (a scan is most of a lookup): ids of another
  // size compare by it, others by their bytes. The seq of an entry passed
  // over is skipped, not decoded.
  auto* p = reinterpret_cast<const unsigned char*>(blob.data());
  auto* end = p + blob.size();
  auto corrupt = [] {
    throw storage_error("sqlite: corrupt id table: an entry runs past its block");
  };
  while (p != end) {
    std::uint64_t size = *p++;
    if (size >= 0x80) { // rare: an id of 128 bytes or more
      std::string_view rest{reinterpret_cast<const char*>(p - 1),
                            static_cast<std::size_t>(end - p + 1)};
      size = take_varint(rest);
      p = reinterpret_cast<const unsigned char*>(rest.data());
    }
    if (size > static_cast<std::uint64_t>(end - p))
      corrupt();
    auto* x = p;
    p += size;
    if (size > id.size())
      return 0; // the block is in key order: past where the id would be
    if (size == id.size()) {
      auto order = std::memcmp(x, id.data(), id.size());
      if (order == 0) {
        std::string_view rest{reinterpret_cast<const char*>(p),
                              static_cast<std::size_t>(end - p)};
        return take_varint(rest);
      }
      if (order > 0)
        return 0;
    }
    // Skips the seq: its last byte has the top bit clear.
    while (p != end && (*p & 0x80) != 0)
      ++p;
    if (p == end)
      corrupt();
    ++p;
  }
  return 0;
}

std::uint64_t id_blocks::count() const {
  reset_on_exit guard{count_};
  if (sqlite3_step(count_) != SQLITE_ROW)
    fail("count");
  return static_cast<std::uint64_t>(sqlite3_column_int64(count_, 0));
}

void id_blocks::insert(std::vector<entry>& ids) {
  if (ids.empty())
    return;
  // Ids of counters and clocks come in key order already.
  if (!std::is_sorted(ids.begin(), ids.end(), key_less))
    std::sort(ids.begin(), ids.end(), key_less);
  // Every block is read before any is written: a cursor does not walk a
  // table that changes under it.
  for (auto& block : read_touched(ids))
    rewrite(block, ids);
}

std::vector<id_blocks::touched>
id_blocks::read_touched(const std::vector<entry>& ids) const {
  std::vector<touched> result;
  // The walk starts at the block holding the first id's place; ids before
  // every block go to a new one.
  std::string start;
  encode_key(ids.front().first, start);
  {
    reset_on_exit guard{floor_};
    bind_blob(floor_, 1, start);
    auto rc = sqlite3_step(floor_);
    if (rc == SQLITE_ROW) {
      auto first = column_blob(floor_, 0);
      start.assign(first.data(), first.size());
    } else if (rc != SQLITE_DONE) {
      fail("find a block");
    }
  }
  reset_on_exit guard{walk_};
  bind_blob(walk_, 1, start);
  touched current{{}, {}, 0, 0, false};
  std::size_t next = 0; // the first id not yet given a block
  auto rc = sqlite3_step(walk_);
  // The first row read is the block holding ids.front()'s place, unless
  // that id comes before every block.
  if (rc == SQLITE_ROW
      && !id_key_less(ids.front().first, key_id(column_blob(walk_, 0)))) {
    auto first = column_blob(walk_, 0);
    auto blob = column_blob(walk_, 1);
    current.first.assign(first.data(), first.size());
    current.ids.assign(blob.data(), blob.size());
    rc = sqlite3_step(walk_);
  }
  for (;;) {
    if (rc == SQLITE_DONE) {
      current.begin = next;
      current.end = ids.size();
      current.last = true;
      result.push_back(std::move(current));
      return result;
    }
    if (rc != SQLITE_ROW)
      fail("read a block");
    auto first = column_blob(walk_, 0);
    auto bound = key_id(first);
    auto end = next;
    while (end < ids.size() && id_key_less(ids[end].first, bound))
      ++end;
    if (end > next) {
      current.begin = next;
      current.end = end;
      result.push_back(std::move(current));
      next = end;
      if (next == ids.size())
        return result;
    }
    auto blob = column_blob(walk_, 1);
    current = touched{std::string{first}, std::string{blob}, 0, 0, false};
    rc = sqlite3_step(walk_);
  }
}

void id_blocks::rewrite(const touched& block, const std::vector<entry>& ids) {
  std::vector<entry> merged;
  decode_block(block.ids, merged);
  auto held = merged.size();
  merged.insert(merged.end(), ids.begin() + static_cast<std::ptrdiff_t>(block.begin),
                ids.begin() + static_cast<std::ptrdiff_t>(block.end));
  std::inplace_merge(merged.begin(), merged.begin() + static_cast<std::ptrdiff_t>(held),
                     merged.end(), key_less);
  // The log never indexes an id twice; if it were wrong, the sync fails
  // rather than the table holding two seqs for one id.
  auto twice = std::adjacent_find(merged.begin(), merged.end(),
                                  [](const entry& x, const entry& y) {
                                    return x.first == y.first;
                                  });
  if (twice != merged.end())
    throw storage_error("sqlite: id table: the id '" + std::string{twice->first}
                        + "' is indexed already (seq " + std::to_string(twice->second)
                        + ")");
  if (!block.first.empty()) {
    reset_on_exit guard{erase_};
    bind_blob(erase_, 1, block.first);
    if (sqlite3_step(erase_) != SQLITE_DONE)
      fail("rewrite a block");
  }
  // The last block fills up: ids that grow in order land after it.
  // Others split evenly, so that later ids between them find room.
  auto per_block = block_max_ids;
  if (!block.last) {
    std::size_t total = 0;
    for (auto& x : merged)
      total += x.first.size() + 4;
    auto blocks = std::max({std::size_t{1},
                            (merged.size() + block_max_ids - 1) / block_max_ids,
                            (total + block_max_bytes - 1) / block_max_bytes});
    per_block = (merged.size() + blocks - 1) / blocks;
  }
  std::size_t begin = 0;
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < merged.size(); ++i) {
    bytes += merged[i].first.size() + 4;
    if (i + 1 - begin == per_block || bytes >= block_max_bytes) {
      write_block(merged.data() + begin, i + 1 - begin);
      begin = i + 1;
      bytes = 0;
    }
  }
  if (begin < merged.size())
    write_block(merged.data() + begin, merged.size() - begin);
}

void id_blocks::write_block(const entry* first, std::size_t n) {
  blob_.clear();
  for (std::size_t i = 0; i < n; ++i) {
    put_varint(blob_, first[i].first.size());
    blob_.append(first[i].first.data(), first[i].first.size());
    put_varint(blob_, first[i].second);
  }
  encode_key(first->first, key_);
  reset_on_exit guard{add_};
  bind_blob(add_, 1, key_);
  sqlite3_bind_int64(add_, 2, static_cast<sqlite3_int64>(n));
  bind_blob(add_, 3, blob_);
  if (sqlite3_step(add_) != SQLITE_DONE)
    fail("write a block");
}

void id_blocks::fail(const char* what) const {
  throw storage_error(std::string{"sqlite: id table: "} + what + ": "
                      + sqlite3_errmsg(db_));
}

} // namespace bus::internal
