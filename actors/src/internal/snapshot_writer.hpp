#pragma once

// The snapshot writer: the actor that writes one projector's snapshots to
// its snapshot_store, so that the projector never waits for a commit, its
// fsync or a compaction. The projector hands it each snapshot as a message
// and goes on applying; the writer serializes what is still JSON, commits,
// answers, and then folds the model's deltas into a new base when they
// outgrew it (snapshot_store::compact): not after the projector's last
// snapshot, and a fold under way is given up once the projector stops.
//
// It runs on a thread of its own (a detached actor), off the scheduler's
// workers, at a lower CPU priority (nice 10), as background compaction does
// in other stores: on a busy machine the projectors and the bus go first,
// and the writer takes what is left (its next snapshot then simply covers
// more events). Under CAF's deterministic test scheduler it is an ordinary
// actor, so that tests and the simulator step it like any other. Snapshots
// are written in the order they were handed over. The writer writes under the
// generation its projector claimed the model with: once another projector
// claims the model, every write answers save_outcome::superseded. After a
// failed write it refuses every later one with the same error (a delta
// must not follow a snapshot that is missing). It quits once its projector
// is gone, after writing what it was handed before.
//
// Local only (its messages never cross nodes) and never installed: the
// projector spawns it.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include <boost/json/value.hpp>
#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/error.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "bus/actors/atoms.hpp"
#include "bus/snapshot_rows.hpp"
#include "bus/snapshot_store.hpp"

namespace bus::actors {

/// Whether more snapshots of a projector follow one.
enum class write_turn : std::uint8_t {
  /// More follow: the writer compacts the model's rows when due.
  ongoing,
  /// The projector's last, taken on its way out: no compaction after it,
  /// so that a shutdown does not wait for one (the model's next projector
  /// compacts when due, after its first write).
  last,
};

/// One snapshot for the writer.
struct snapshot_write {
  /// Everything but a state still in `document`.
  snapshot x;
  /// For a rows snapshot: a base (replaces the stored rows) or a delta.
  rows_write how = rows_write::base;
  /// For a delta: its lines, and about how many keys they change (the
  /// recorder counted them), which tell whether folding it pays.
  row_count counted;
  /// The model's snapshot(), for the writer to serialize (whole layout) or
  /// to split into rows (a rows base of every key); null when `x.state`
  /// holds the rows already.
  boost::json::value document;
  write_turn turn = write_turn::ongoing;
};

/// Where a snapshot writer runs.
enum class writer_thread : std::uint8_t {
  /// A thread of its own, at a lower priority.
  own,
  /// The scheduler's workers, like other actors (the test scheduler).
  shared,
};

/// Set by a projector when it stops, read by its writer: a compaction
/// under way then gives up (snapshot_store::compact).
using stop_flag = std::shared_ptr<std::atomic<bool>>;

/// Writes one model's snapshots. The answer hands back the buffer of the
/// rows written, emptied, for the projector to fill with its next ones.
using snapshot_writer_actor = caf::typed_actor<
  caf::replies_to<write_atom, snapshot_write>::with<save_outcome, std::string>>;

struct snapshot_writer_state {
  std::string path;
  std::string model;
  std::uint64_t generation = 0;
  writer_thread thread = writer_thread::shared;
  /// Opened with the first write.
  std::unique_ptr<snapshot_store> store;
  /// Set by a failed write or compaction: every later delta answers it,
  /// for the stored rows miss what the failed one held. A write that
  /// replaces the model's snapshot (a base, or whole) clears it.
  caf::error failure;
  /// Its projector's: set once the projector stops.
  stop_flag owner_stopping;

  static inline const char* name = "snapshot_writer";
};

/// The writer of `model`'s snapshots in the file `path`, under `generation`
/// (from snapshot_store::claim), for the projector `owner`, running on
/// `thread` (own: it lowers its thread's priority). The writer holds
/// `owner` only until it starts (a strong handle: the projector may be gone
/// by then, and is then still there to monitor).
snapshot_writer_actor::behavior_type snapshot_writer_impl(
  snapshot_writer_actor::stateful_pointer<snapshot_writer_state> self, std::string path,
  std::string model, std::uint64_t generation, caf::actor owner,
  stop_flag owner_stopping, writer_thread thread);

/// Spawns a writer (see above: detached, but scheduled under the
/// deterministic test scheduler).
snapshot_writer_actor spawn_snapshot_writer(caf::actor_system& sys, std::string path,
                                            std::string model, std::uint64_t generation,
                                            caf::actor owner, stop_flag owner_stopping);

} // namespace bus::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(bus::actors::snapshot_write)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(bus::save_outcome)
