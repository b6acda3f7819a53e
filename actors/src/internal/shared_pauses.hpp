#pragma once

// The pauses of a shared model's partitions on a projector node (see
// docs/distributed.md, "Competing consumers"): the node tells the bus what
// the operator wants of each partition it runs, and takes the bus's word
// for a partition that moves here, or for every partition it gets when it
// (re)attaches, since other nodes may have paused or resumed them
// meanwhile. Runs in the supervisor's actor.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <caf/error.hpp>

#include "bus/actors/messages.hpp"
#include "internal/supervisor_state.hpp"

namespace bus::internal {

using supervisor_ptr
  = actors::supervisor_actor::stateful_pointer<actors::supervisor_state>;

/// True when slot `s` is a partition of a model a bus shares with other
/// nodes (it has assigned its partitions, or will).
bool shared_partition(const actors::supervisor_state& st,
                      const actors::supervisor_state::slot& s);

/// Tells the bus what the operator wants of `name` (intent `x`, frozen at
/// `frozen_at`), if it is a partition of a shared model: the next node to
/// run it takes that pause. Then calls `done`, if any: with the bus's
/// refusal to keep it (its store failed; logged here too), or with none:
/// once the bus kept it, when the bus did not answer (lost: logged, and as
/// when this node is cut off from it), and at once for any other model.
void report_pause(supervisor_ptr self, const std::string& name,
                  actors::supervisor_state::intent x,
                  std::optional<std::uint64_t> frozen_at,
                  std::function<void(caf::error)> done = nullptr);

/// Takes the bus's pause `theirs` for the partition in slot `index`: kept
/// for its next projectors (and the node's), and its running projector, if
/// any, is paused, held at the frozen point or resumed accordingly.
void adopt_pause(supervisor_ptr self, std::size_t index,
                 const actors::partition_pause& theirs);

/// The bus is back (a rebind to a live bus): every shared model waits for
/// its assignment again (joining).
void rejoin(supervisor_ptr self);

/// True while slot `s`'s projector must not be rebound to the bus: its
/// model waits for the bus's assignment (joining).
bool awaits_assignment(const actors::supervisor_state& st,
                       const actors::supervisor_state::slot& s);

} // namespace bus::internal
