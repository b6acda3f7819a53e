#pragma once

// How far the projectors of a process are with restoring their models at
// start. A projector restores on a CAF worker and answers nothing until it
// is done; with a restore per worker, nothing else runs, the supervisor
// included (4 M users in two models: 6 to 9 s). These counters are written
// by the restoring projectors and read by whoever waits for them
// (bus-node's start-up), from any thread.

#include <atomic>
#include <cstdint>
#include <string_view>

#include <boost/json/value.hpp>

namespace bus {

class read_model;

struct restore_progress {
  /// Rows a restore counts between two updates of `rows`.
  static constexpr std::uint64_t rows_per_update = 4096;

  /// Models restoring now (a snapshot or a table being loaded into them).
  std::atomic<std::uint32_t> models{0};
  /// Rows restored so far, all models together (rows snapshots and tables
  /// restored row by row).
  std::atomic<std::uint64_t> rows{0};
};

/// Counts one model among those restoring while it lives (nothing for a
/// null `progress`).
class counted_restore {
public:
  explicit counted_restore(restore_progress* progress) noexcept : progress_(progress) {
    if (progress_ != nullptr)
      progress_->models.fetch_add(1, std::memory_order_relaxed);
  }

  ~counted_restore() {
    if (progress_ != nullptr)
      progress_->models.fetch_sub(1, std::memory_order_relaxed);
  }

  counted_restore(const counted_restore&) = delete;
  counted_restore& operator=(const counted_restore&) = delete;

private:
  restore_progress* progress_;
};

/// Hands a model that reset() emptied its rows one at a time
/// (read_model::restore_row), counting them in `progress` (if not null):
/// what a restart from a rows snapshot and from a table both do.
class row_restorer {
public:
  row_restorer(read_model& model, restore_progress* progress) noexcept
    : model_(model), progress_(progress) {
    // nop
  }

  /// Adds the rows not counted yet.
  ~row_restorer();

  row_restorer(const row_restorer&) = delete;
  row_restorer& operator=(const row_restorer&) = delete;

  /// Restores one row. Returns false when the model did not take it (it
  /// restores only whole states, or not this value): give it no more.
  bool operator()(std::string_view key, const boost::json::value& value);

  /// True while the model took every row it was given.
  bool by_row() const noexcept { return by_row_; }

private:
  read_model& model_;
  restore_progress* progress_;
  std::uint64_t uncounted_ = 0;
  bool by_row_ = true;
};

} // namespace bus
