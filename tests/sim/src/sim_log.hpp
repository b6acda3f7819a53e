#pragma once

// An in-memory event log for the simulator that can behave like a store
// with group commit (sync_interval > 0): appended events become durable only
// at sync(), and a sync can be made to fail once, which drops every event
// past the durable head as a real store does (their ids are free again).
// With a zero interval, append() is durable on return. Not thread-safe;
// owned by the bus actor that the simulator respawns on the same instance.

#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "bus/event_log.hpp"

namespace bus::sim {

class sim_log final : public event_log {
public:
  explicit sim_log(std::chrono::milliseconds interval) : interval_(interval) {
    // nop
  }

  std::optional<std::uint64_t> find(std::string_view id) const override;
  event_batch read(std::uint64_t from, std::size_t max) const override;
  std::uint64_t head() const noexcept override { return events_.size(); }
  std::uint64_t durable_head() const noexcept override { return durable_; }
  void sync() override;
  std::chrono::milliseconds sync_interval() const noexcept override {
    return interval_;
  }

  /// Makes the next sync() throw storage_error (a disk that failed).
  void fail_next_sync() noexcept { fail_next_ = true; }

  /// Syncs that failed so far.
  std::size_t failed_syncs() const noexcept { return failed_syncs_; }

protected:
  append_result do_append(std::vector<event> batch) override;

private:
  std::chrono::milliseconds interval_;
  // One shared vector per event, so that views handed out stay valid when
  // a failed sync truncates the log.
  std::vector<shared_events> events_;
  std::unordered_map<std::string, std::uint64_t> ids_;
  std::uint64_t durable_ = 0;
  bool fail_next_ = false;
  std::size_t failed_syncs_ = 0;
};

} // namespace bus::sim
