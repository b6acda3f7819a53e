#pragma once

// An in-memory event log for the simulator that can behave like a store
// with group commit (sync_interval > 0): appended events become durable only
// at sync(), and a sync can be made to fail once, which drops every event
// past the durable head as a real store does (their ids are free again).
// With a zero interval, append() is durable on return unless the owner
// asked to sync itself (defer_syncs(), as the bus does: its group commit
// through its own mailbox, as over a real store). Not thread-safe;
// owned by the bus actor that the simulator respawns on the same instance.

#include <chrono>
#include <cstdint>
#include <memory>
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
  bool defer_syncs() noexcept override {
    deferred_ = true;
    return true;
  }

  /// True if appended events wait for a sync() (which may then fail).
  bool holds_appends() const noexcept { return interval_.count() > 0 || deferred_; }

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
  bool deferred_ = false;
  bool fail_next_ = false;
  std::size_t failed_syncs_ = 0;
};

/// The log as one bus incarnation sees it. A crash is an exit message that
/// the killed bus handles only when its turn comes, and until then it would
/// go on appending to the log the new bus owns (two writers, which no real
/// crash produces). Once fenced, appends and syncs fail as on a dead disk;
/// reads go on (harmless).
class fenced_log final : public event_log {
public:
  explicit fenced_log(std::shared_ptr<sim_log> target) : target_(std::move(target)) {
    // nop
  }
  void fence() noexcept { fenced_ = true; }
  std::optional<std::uint64_t> find(std::string_view id) const override {
    return target_->find(id);
  }
  event_batch read(std::uint64_t from, std::size_t max) const override {
    return target_->read(from, max);
  }
  std::uint64_t head() const noexcept override { return target_->head(); }
  std::uint64_t durable_head() const noexcept override {
    return target_->durable_head();
  }
  void sync() override;
  std::chrono::milliseconds sync_interval() const noexcept override {
    return target_->sync_interval();
  }
  bool defer_syncs() noexcept override { return target_->defer_syncs(); }

protected:
  append_result do_append(std::vector<event> batch) override;

private:
  std::shared_ptr<sim_log> target_;
  bool fenced_ = false;
};

} // namespace bus::sim
