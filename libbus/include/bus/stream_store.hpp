#pragma once

// The write side's view of the log: every stream's version and, for the
// streams of known aggregate types, the last snapshot of the aggregate plus
// the events after it (its tail). A snapshot is taken every
// `snapshot_every` events of a stream, so loading an aggregate folds at
// most that many events onto a snapshot, and the store keeps per stream one
// snapshot and a bounded tail rather than the whole stream.
//
// The store decides, it does not write: decide() checks a command's
// expected version, loads the aggregate, lets it handle the command and
// returns the stamped events; the caller appends them and hands what the
// log took back to observe(). Owned by one actor (the command handler) at
// a time; not thread-safe.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/json/value.hpp>
#include <caf/expected.hpp>

#include "bus/aggregate.hpp"
#include "bus/event.hpp"

namespace bus {

/// Streams by id, rebuilt from the log.
class stream_store {
public:
  /// Snapshot interval used when none is given.
  static constexpr std::size_t default_snapshot_every = 100;

  /// Returns a store for `types`, snapshotting every `snapshot_every`
  /// events of a stream (0: never, the tail keeps the whole stream), or
  /// errc::invalid_config when two types share a name or a command name.
  static caf::expected<stream_store>
  make(std::vector<aggregate_type> types,
       std::size_t snapshot_every = default_snapshot_every);

  /// Takes one event of the log, in seq order: an event of a stream moves
  /// the stream to its version. One at or below the stream's version is
  /// ignored (seen before); one past the next version is taken as the log
  /// says (the log is the truth) and logged as a gap.
  void observe(const event& e);

  /// Returns the stream's version: the number of its events, 0 for a
  /// stream without any.
  std::uint64_t version(std::string_view stream) const;

  /// Validates `c`: errc::unknown_command when no type handles its name,
  /// errc::version_conflict when the stream is not at `c.expected_version`,
  /// the aggregate's error when it refuses. Otherwise returns the events it
  /// produced, stamped with the stream's next versions (event_stream.hpp)
  /// and not yet appended; none when the command changes nothing.
  caf::expected<std::vector<event>> decide(const command& c) const;

  /// Returns the aggregate of `stream` rebuilt from its snapshot and tail
  /// (a fresh one for an empty stream), or errc::unknown_command when the
  /// stream's aggregate type is not one of the store's.
  caf::expected<std::unique_ptr<aggregate>> load(std::string_view stream) const;

  /// Returns the stream version of the stream's last snapshot (0: none).
  std::uint64_t snapshot_version(std::string_view stream) const;

  /// Returns how many events the stream keeps after its snapshot.
  std::size_t tail_size(std::string_view stream) const;

  /// Returns the number of streams the store knows.
  std::size_t streams() const noexcept { return streams_.size(); }

  std::size_t snapshot_every() const noexcept { return snapshot_every_; }

private:
  struct stream_entry {
    /// The type that owns the stream ("" when its events named none).
    std::string aggregate;
    std::uint64_t version = 0;
    std::uint64_t snapshot_version = 0;
    /// The aggregate's state at snapshot_version (null: no snapshot).
    boost::json::value snapshot;
    /// The stream's events after snapshot_version.
    std::vector<event> tail;
  };

  stream_store() = default;

  const aggregate_type* type_named(std::string_view name) const;
  caf::expected<std::unique_ptr<aggregate>> rebuild(const stream_entry& s) const;
  void take_snapshot(const std::string& stream, stream_entry& s);

  std::vector<aggregate_type> types_;
  /// Command name -> index into types_.
  std::unordered_map<std::string, std::size_t> handlers_;
  std::unordered_map<std::string, stream_entry> streams_;
  std::size_t snapshot_every_ = default_snapshot_every;
};

} // namespace bus
