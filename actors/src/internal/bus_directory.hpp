#pragma once

// The bus's directory of attached nodes (node_entry): which node serves
// which model, for query routing on the bus's node, and the partitions of
// the models nodes share (bus/consumer_group.hpp), assigned here and pushed
// to each node's supervisor whenever a sharing node comes or goes. Runs in
// the bus's actor.

#include <string>
#include <vector>

#include <caf/actor_addr.hpp>
#include <caf/fwd.hpp>
#include <caf/error.hpp>

#include "bus/actors/bus_actor.hpp"
#include "internal/bus_state.hpp"

namespace bus::internal {

using directory_bus_ptr = actors::bus_actor::stateful_pointer<actors::bus_state>;

/// Enters node `node` (its supervisor `supervisor`) with the whole models
/// `models` and the partitioned models `shared`, replacing its earlier
/// entry, and assigns the partitions of what it shares. Refuses, changing
/// nothing, a model another live node serves whole, a whole model another
/// shares, and a shared model that other live nodes share with another
/// partition count.
caf::error attach_node(directory_bus_ptr self, std::string node, caf::actor supervisor,
                       std::vector<std::string> models,
                       std::vector<actors::shared_model> shared);

/// Keeps what the operator wants of partition `name` of a shared model
/// (`pause`), told by the node that runs it (`sender`, its supervisor):
/// the next node to run it takes that pause, also after a restart of the
/// bus when it has a directory store (directory_pauses.hpp). Ignored from
/// any other node, whose word on the partition is stale (it moved away
/// meanwhile). Returns the store's failure to keep it (keep_pause).
caf::error keep_partition_pause(directory_bus_ptr self,
                                const caf::strong_actor_ptr& sender,
                                const std::string& name, actors::partition_pause pause);

/// Marks the node whose supervisor was `who` lost (its models "away") and
/// moves the partitions it held to the nodes that share them still; with
/// none left, it keeps them, "away" like its whole models.
void node_lost(directory_bus_ptr self, const caf::actor_addr& who);

} // namespace bus::internal
