#pragma once

// The durable event log on SQLite (WAL mode): one row per event, the id
// unique in the store, each appended batch one transaction. A batch counts
// as acknowledged once append() returns: by then it is committed under the
// chosen durability policy. Reopening the same file gives back every
// acknowledged event. Owned by one actor at a time; not thread-safe.

#include <memory>
#include <string>

#include <caf/expected.hpp>

#include "bus/event_log.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace bus {

/// When a committed batch reaches the disk.
enum class durability {
  /// fsync at every commit (synchronous=FULL): survives a power loss.
  fsync_each_batch,
  /// Leave it to the OS (synchronous=NORMAL in WAL): survives a crash of
  /// the process, may lose the last batches on a power loss.
  os_buffered,
};

/// Returns "fsync" or "os", as accepted by parse_durability.
std::string to_string(durability x);

/// Parses "fsync" or "os".
caf::expected<durability> parse_durability(const std::string& text);

class sqlite_log final : public event_log {
public:
  /// Opens (or creates) the store at `path`.
  static caf::expected<std::shared_ptr<sqlite_log>>
  open(const std::string& path, durability policy = durability::fsync_each_batch);

  ~sqlite_log() override;

  sqlite_log(const sqlite_log&) = delete;
  sqlite_log& operator=(const sqlite_log&) = delete;

  std::optional<std::uint64_t> find(std::string_view id) const override;
  event_batch read(std::uint64_t from, std::size_t max) const override;
  std::uint64_t head() const noexcept override { return head_; }

protected:
  append_result do_append(std::vector<event> batch) override;

private:
  sqlite_log() = default;

  void exec(const char* sql) const;
  [[noreturn]] void fail(const std::string& what) const;

  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
  sqlite3_stmt* find_ = nullptr;
  sqlite3_stmt* read_ = nullptr;
  std::uint64_t head_ = 0;
};

} // namespace bus
