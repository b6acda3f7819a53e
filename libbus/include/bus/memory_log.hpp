#pragma once

// The in-memory log: every event is kept in the compact binary record form
// (the one the durable store writes, see event_wire.hpp), a tenth of the
// memory of the event as Boost.JSON objects, and the recent tail is also
// kept as events in shared chunks, so that a fan-out or a read of recent
// seqs hands out views of stored events without decoding or copying them.
// A read of older seqs decodes its stretch of the records once, for every
// reader of it. Ids are
// indexed in memory by hash and seq. Owned by one actor at a time; views
// may be read from any thread.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "bus/event_log.hpp"

namespace bus::internal {
class id_index;
class read_cache;
class record_store;
class tail_cache;
} // namespace bus::internal

namespace bus {

/// An event_log that lives in memory; what it holds is gone with it.
class memory_log final : public event_log {
public:
  /// Events of the recent tail kept as events by default (besides their
  /// records).
  static constexpr std::size_t default_tail_events = 16384;

  /// A log that keeps at least the last `tail_events` events as events.
  explicit memory_log(std::size_t tail_events = default_tail_events);
  ~memory_log() override;

  std::optional<std::uint64_t> find(std::string_view id) const override;
  event_batch read(std::uint64_t from, std::size_t max) const override;
  std::uint64_t head() const noexcept override { return head_; }

protected:
  append_result do_append(std::vector<event> batch) override;

private:
  /// Returns the id of the event with `seq` (1 <= seq <= head).
  std::string_view id_at(std::uint64_t seq) const;

  std::unique_ptr<internal::record_store> records_;
  std::unique_ptr<internal::tail_cache> tail_;
  /// Stretches older than the tail decoded lately, shared by their readers.
  std::unique_ptr<internal::read_cache> reads_;
  std::unique_ptr<internal::id_index> ids_;
  std::uint64_t head_ = 0;
};

} // namespace bus
