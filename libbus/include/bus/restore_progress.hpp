#pragma once

// How far the projectors of a process are with restoring their models at
// start (4 M users in two models: 6 to 9 s). A projector restores off the
// CAF workers (projector.hpp) and its status says "restoring"; these
// counters tell how far it is, per model and for the whole process. They
// are written by the restores and read by whoever waits for them (status,
// bus-node's start-up), from any thread.

#include <atomic>
#include <cstdint>
#include <string_view>

#include <boost/json/value.hpp>

namespace bus {

class read_model;

struct restore_progress {
  /// Rows a restore counts between two updates of `rows` (and between two
  /// looks at `stop`).
  static constexpr std::uint64_t rows_per_update = 4096;

  /// Models restoring now (a snapshot or a table being loaded into them).
  std::atomic<std::uint32_t> models{0};
  /// Rows restored so far (rows snapshots and tables restored row by row).
  std::atomic<std::uint64_t> rows{0};
  /// Set when nobody waits for the restores counted here any more (their
  /// projector stopped): they give up at their next update.
  std::atomic<bool> stop{false};
  /// The process's counts, which these also go to (null: none): a
  /// projector counts its own restore, and the process all of them.
  restore_progress* total = nullptr;

  void add_rows(std::uint64_t n) noexcept {
    rows.fetch_add(n, std::memory_order_relaxed);
    if (total != nullptr)
      total->add_rows(n);
  }

  void add_model() noexcept {
    models.fetch_add(1, std::memory_order_relaxed);
    if (total != nullptr)
      total->add_model();
  }

  void remove_model() noexcept {
    models.fetch_sub(1, std::memory_order_relaxed);
    if (total != nullptr)
      total->remove_model();
  }
};

/// Counts one model among those restoring while it lives (nothing for a
/// null `progress`).
class counted_restore {
public:
  explicit counted_restore(restore_progress* progress) noexcept : progress_(progress) {
    if (progress_ != nullptr)
      progress_->add_model();
  }

  ~counted_restore() {
    if (progress_ != nullptr)
      progress_->remove_model();
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
  /// restores only whole states, or not this value), or when `progress`
  /// was told to stop: give it no more.
  bool operator()(std::string_view key, const boost::json::value& value);

  /// Restores one row of a record row (read_model::restore_record), as
  /// operator() does.
  bool record(std::string_view key, std::string_view value);

  /// True while the model took every row it was given.
  bool by_row() const noexcept { return by_row_; }

  /// True once it gave up because `progress` was told to stop.
  bool stopped() const noexcept { return stopped_; }

private:
  // Counts the row just given; false to give no more.
  bool counted();

  read_model& model_;
  restore_progress* progress_;
  std::uint64_t uncounted_ = 0;
  bool by_row_ = true;
  bool stopped_ = false;
};

} // namespace bus
