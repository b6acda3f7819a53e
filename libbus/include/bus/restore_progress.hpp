#pragma once

// How far the projectors of a process are with restoring their models at
// start. A projector restores on a CAF worker and answers nothing until it
// is done; with a restore per worker, nothing else runs, the supervisor
// included (4 M users: about 10 s). These counters are written by the
// restoring projectors and read by whoever waits for them (bus-node's
// start-up), from any thread.

#include <atomic>
#include <cstdint>

namespace bus {

struct restore_progress {
  /// Rows a restore counts between two updates of `rows`.
  static constexpr std::uint64_t rows_per_update = 4096;

  /// Models restoring now (a snapshot or a table being loaded into them).
  std::atomic<std::uint32_t> models{0};
  /// Rows restored so far, all models together (rows snapshots only).
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

} // namespace bus
