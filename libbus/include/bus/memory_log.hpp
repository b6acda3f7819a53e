#pragma once

// The in-memory event log: events are kept in shared chunks of reserved
// capacity, filled by successive appends, so reads hand out views of stored
// events without copying them, and a replay returns up to a whole chunk
// (thousands of events) per read whatever the publishers' batch size. A
// chunk never reallocates: views taken earlier stay valid while later
// appends fill it. Owned by one actor at a time; views may be read from
// any thread.

#include <memory>
#include <string_view>
#include <vector>

#include "bus/event_log.hpp"

namespace bus::internal {
class id_index;
} // namespace bus::internal

namespace bus {

/// An event_log that lives in memory; what it holds is gone with it.
class memory_log final : public event_log {
public:
  memory_log();
  ~memory_log() override;

  std::optional<std::uint64_t> find(std::string_view id) const override;
  event_batch read(std::uint64_t from, std::size_t max) const override;
  std::uint64_t head() const noexcept override { return head_; }

protected:
  append_result do_append(std::vector<event> batch) override;

private:
  struct chunk {
    std::uint64_t first_seq;
    /// Filled up to its reserved capacity, never beyond.
    std::shared_ptr<std::vector<event>> events;
  };

  /// Events a chunk reserves room for (more if one batch is larger).
  static constexpr std::size_t chunk_capacity = 8192;

  /// Returns the chunk holding `seq` (1 <= seq <= head).
  const chunk& chunk_of(std::uint64_t seq) const;

  /// Returns the stored event with `seq` (1 <= seq <= head).
  const event& at(std::uint64_t seq) const;

  std::vector<chunk> chunks_;
  std::unique_ptr<internal::id_index> ids_;
  std::uint64_t head_ = 0;
};

} // namespace bus
