#pragma once

// A supervisor's slots as it starts: one per model, or per partition, and
// the operator's pauses kept from before.

#include <vector>

#include "bus/actors/supervisor.hpp"
#include "internal/partitioned.hpp"

namespace bus::internal {

/// Fills the supervisor's slots from `specs` (partitions expanded). A spec
/// a configuration file would have refused (config.cpp) gets a slot that
/// stays failed, saying why: more partitions than a model may have, or a
/// second model of one name. With partition_placement::by_bus, no
/// partition runs before the bus assigns it.
void make_slots(supervisor_ptr self, std::vector<model_spec> specs);

/// Opens the store of pauses, if any, and marks the slots paused there:
/// a partition by its own row or by its model's. Removes rows of
/// partitions the model no longer has.
void restore_pauses(supervisor_ptr self);

} // namespace bus::internal
