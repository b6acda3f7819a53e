#pragma once

// The dead-letter store of one read model, in memory: the events it parked
// (parked_event.hpp), in seq order, and the keys they block. The projector
// that owns the model owns its lot; the stores persist it with the model's
// checkpoint (snapshot_store, model_table). Not thread-safe: one actor uses
// it.
//
// Under key_order::per_key a parked event blocks its key: every later event
// of that key is parked behind it (park_behind), never applied, until the
// operator retries or discards them. A retry takes entries out in seq order
// and unblocks their keys; the caller applies them in that order and parks
// again any that fails, after which the rest of its key is blocked again
// and parks behind it, as live events would.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>

#include "bus/parked_event.hpp"
#include "bus/recovery_policy.hpp"

namespace bus {

/// The parked events of one read model.
class parking_lot {
public:
  /// Makes an empty lot; `order` says whether parked events block their key.
  explicit parking_lot(key_order order = key_order::per_key);

  /// Returns the order the lot keeps.
  key_order order() const noexcept { return order_; }

  /// Returns true when a later event of `key` must be parked behind a
  /// parked one: the order is per_key and an event of `key` is parked. An
  /// event without a key (read_model::key_of) is never blocked.
  bool blocks(std::string_view key) const;

  /// Returns the seq of the first parked event of `key` (under per_key,
  /// the one its later events wait behind); nothing when none is parked.
  std::optional<std::uint64_t> first_of(std::string_view key) const;

  /// Parks `x`. Returns false, changing nothing, when its seq is parked
  /// already (an event is never parked twice).
  bool park(parked_event x);

  /// Parks `e` of `key` behind the first parked event of that key (reason
  /// `behind`, never tried), at `parked_at` (ms since the epoch). Returns
  /// false, changing nothing, when `e` is parked already or nothing of
  /// `key` is parked.
  bool park_behind(const event& e, std::string key, std::int64_t parked_at);

  /// Returns the entry of `seq`, or nullptr.
  const parked_event* find(std::uint64_t seq) const;

  /// Returns every entry in seq order (list requests, snapshots).
  std::vector<parked_event> list() const;

  /// Takes the entry of `seq` out for a retry, with (under per_key) the
  /// entries of its key parked after it, which wait only for it; in seq
  /// order, their key unblocked. Fails with errc::not_parked when `seq` is
  /// not parked, and with errc::precondition_failed when an earlier event
  /// of its key is parked (retrying it first would break the key's order).
  caf::expected<std::vector<parked_event>> take(std::uint64_t seq);

  /// Takes every entry out for a retry, in seq order; no key stays blocked.
  std::vector<parked_event> take_all();

  /// Drops the entry of `seq` for good and returns it. Under per_key the
  /// entries parked behind it stay parked: they were never applied either.
  /// Fails with errc::not_parked when `seq` is not parked.
  caf::expected<parked_event> discard(std::uint64_t seq);

  /// Drops every entry for good; returns how many there were.
  std::size_t discard_all();

  /// Returns the number of parked events (status).
  std::size_t size() const noexcept { return entries_.size(); }

  /// Returns true when nothing is parked.
  bool empty() const noexcept { return entries_.empty(); }

  /// Replaces the entries with `xs`, as a store loaded them; records no
  /// change. Entries with a seq seen before are dropped.
  void restore(std::vector<parked_event> xs);

  /// Forgets every entry and every recorded change (a rebuild, which
  /// clears the store too and parks again whatever still fails).
  void clear() noexcept;

  /// Starts recording the seqs whose entry is parked or removed, for a
  /// store that writes only what changed (model_table).
  void track_changes() noexcept { tracking_ = true; }

  /// Moves the seqs recorded since the last call to the end of `out`; a
  /// seq may repeat. find() tells whether each is parked now.
  void take_changes(std::vector<std::uint64_t>& out);

private:
  parked_event remove(std::map<std::uint64_t, parked_event>::iterator i);
  void changed(std::uint64_t seq);

  key_order order_;
  std::map<std::uint64_t, parked_event> entries_;
  // key -> the seqs of its parked events; keyless events are not here.
  std::map<std::string, std::set<std::uint64_t>, std::less<>> by_key_;
  bool tracking_ = false;
  std::vector<std::uint64_t> changes_;
};

} // namespace bus
