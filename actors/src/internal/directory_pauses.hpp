#pragma once

// The pauses a bus's directory keeps of the partitions of shared models
// (bus_state::shared_pauses; docs/distributed.md, "Pauses move with the
// partitions"): in memory, and in bus_options::directory_store when the bus
// has one, so that a restarted bus (or a standby taking the lead) sends
// them with its first assignments instead of learning them again from
// whichever nodes reattach. Runs in the bus's actor.

#include <cstdint>
#include <string>

#include <caf/error.hpp>

#include "bus/actors/bus_actor.hpp"
#include "internal/bus_state.hpp"

namespace bus::internal {

using pauses_bus_ptr = actors::bus_actor::stateful_pointer<actors::bus_state>;

/// Reads the pauses kept in the bus's directory store, if any, into its
/// state. A store it cannot read is logged: the bus then learns the pauses
/// from the nodes, as without a store.
void load_directory_pauses(pauses_bus_ptr self);

/// The pause kept of partition `partition` of `model` running as
/// `partitions` partitions, if any. Pauses kept for another partition
/// count are forgotten first: those partitions held other keys.
const actors::partition_pause* kept_pause(pauses_bus_ptr self, const std::string& model,
                                          std::uint32_t partitions,
                                          std::uint32_t partition);

/// Keeps `pause` (its partition set) of `model` running as `partitions`
/// partitions, replacing what was kept of that partition, in memory and in
/// the store. Returns the store's failure to keep it, logged: it is kept
/// in memory all the same (the partition is so on its node), but a bus
/// restarted on the store would not know it. errc::model_unavailable when
/// the store's fence refused it (another bus node leads), storage_failed
/// otherwise.
caf::error keep_pause(pauses_bus_ptr self, const std::string& model,
                      std::uint32_t partitions, actors::partition_pause pause);

} // namespace bus::internal
