#pragma once

// The append-only event log behind an interface, so that the in-memory log
// of this release and a durable store can be swapped under the bus actor.
// A log is owned by one actor at a time and is not thread-safe.

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "bus/event.hpp"
#include "bus/latency_histogram.hpp"

namespace bus {

/// Thrown by a durable log when its storage fails (disk full, I/O error,
/// corrupt data). The bus turns it into an error reply: nothing of the
/// batch is acknowledged. The in-memory log never throws it.
class storage_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// What happened to one event of an appended batch.
struct append_outcome {
  /// The event's final id (a derived id may have been made unique).
  std::string id;
  /// The seq the event got, or for a duplicate the seq it already had.
  std::uint64_t seq = 0;
  /// True when the id was already in the log and nothing was appended.
  bool duplicate = false;
};

/// Result of appending a batch.
struct append_result {
  /// One outcome per event of the batch, in batch order.
  std::vector<append_outcome> outcomes;
  /// The events actually appended (duplicates left out), in seq order.
  event_batch appended;
};

/// What a durable store measured of its own work, for metrics.
struct store_timings {
  /// False for a log that measures nothing (the in-memory log).
  bool measured = false;
  /// Time per commit of appended events: the writes and the fsync
  /// together, from the start of the transaction to its end.
  latency_histogram commit;
  /// Time per fsync the store asked of the file system (a commit may need
  /// several, and a WAL checkpoint adds its own).
  latency_histogram fsync;
};

/// Whether a durable store takes events.
enum class store_state : std::uint8_t {
  /// It takes and keeps them. A full disk leaves it so: the commit that
  /// found the disk full was rolled back whole, and a later one may succeed
  /// once there is room.
  healthy,
  /// A write or an fsync failed (or the file proved corrupt): what the file
  /// system kept of the last commit is unknown, and a retried fsync could
  /// report success for pages the kernel already dropped. The store refuses
  /// every append until the process reopens it, which recovers the file to
  /// its last whole commit and loads it again. A store on a server
  /// (postgres_log) is also failed while it has lost its connection; it
  /// tries to reconnect at each later append.
  failed,
  /// Another writer holds the store's lease (postgres_log with a fence):
  /// this one refuses every append, and what it appended before stays.
  /// It takes events again only once its own token is valid once more.
  fenced,
};

/// Returns "healthy", "failed" or "fenced".
const char* to_string(store_state x) noexcept;

/// Prints the name of `x`.
std::ostream& operator<<(std::ostream& out, store_state x);

/// A store's state and, once failed, why.
struct store_health {
  store_state state = store_state::healthy;
  /// The failure that made the store fail ("" while healthy).
  std::string reason;
};

/// An append-only, idempotent log of events.
class event_log {
public:
  virtual ~event_log();

  /// Appends `batch` in order. Each new event gets the next `seq` (from 1)
  /// and, when it has none, a timestamp. An event whose id is already in
  /// the log, or earlier in the batch, is not appended. Events with
  /// `id_derived` first get a unique id by the rule of event_id.hpp.
  append_result append(std::vector<event> batch);

  /// Gives each event of `batch` the id it would be appended under (the rule
  /// of event_id.hpp for derived ids) without appending anything. Outcomes
  /// say which events the log already holds (with their seq); an event equal
  /// to an earlier one of the batch is a duplicate with seq 0.
  std::vector<append_outcome> resolve(std::vector<event>& batch) const;

  /// Returns the seq of the event with `id`, if the log holds it.
  virtual std::optional<std::uint64_t> find(std::string_view id) const = 0;

  /// Returns up to `max` events starting at seq `from`, in order. It may
  /// return fewer (at the head or a storage boundary); it returns none
  /// when `from` is past the head.
  virtual event_batch read(std::uint64_t from, std::size_t max) const = 0;

  /// Returns the seq of the last event, 0 when the log is empty.
  virtual std::uint64_t head() const noexcept = 0;

  /// Returns the seq up to which appended events are durable. Events past
  /// it may still be lost by a crash: they must not be acknowledged, nor
  /// shown to a projector, before a sync() covers them. Equals head() for a
  /// log whose append() is durable on return.
  virtual std::uint64_t durable_head() const noexcept { return head(); }

  /// Makes every appended event durable. On a storage_error the events past
  /// the previous durable_head() are gone from the log (head() is back to
  /// it and their ids are free again); nothing durable is lost.
  virtual void sync();

  /// How long the log may hold appended events before sync() is due; zero
  /// when append() makes them durable itself.
  virtual std::chrono::milliseconds sync_interval() const noexcept {
    return std::chrono::milliseconds{0};
  }

  /// Lets the owner cover the events of several append() calls with one
  /// sync() (group commit): where append() made its events durable itself,
  /// it now leaves them past durable_head(), and the owner calls sync() as
  /// soon as it has appended what was waiting (sync_interval() stays zero).
  /// Returns false for a log that cannot: its append() stays durable on
  /// return. One-way: the owner that asks does the syncing from then on.
  virtual bool defer_syncs() noexcept { return false; }

  /// Returns what the store measured so far (nothing, by default). Cheap:
  /// a copy of two histograms.
  virtual store_timings timings() const { return {}; }

  /// Returns whether the store takes events (always, for a log in memory).
  virtual store_health health() const { return {}; }

protected:
  /// Returns the time stamped on events appended without one: nanoseconds
  /// since the Unix epoch.
  static std::int64_t now_ns();

  /// Settles the derived ids of `batch` against the log and the batch.
  void settle_ids(std::vector<event>& batch) const;

  /// Appends `batch`, whose ids are final; see append().
  virtual append_result do_append(std::vector<event> batch) = 0;
};

/// Calls `f(batch)` for the whole log from `from` on, in seq order, in
/// batches of at most `max` events.
template <class F>
void for_each_batch(const event_log& log, F&& f, std::uint64_t from = 1,
                    std::size_t max = 4096) {
  for (auto batch = log.read(from, max); !batch.empty();
       batch = log.read(batch.last_seq() + 1, max))
    f(batch);
}

} // namespace bus
