#pragma once

// A supervisor's partitioned models (bus/partitions.hpp): each partition
// is a slot of its own, named "<model>#<i>"; requests that name the model
// are spread over its partitions here.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <caf/result.hpp>

#include "internal/supervisor_state.hpp"

namespace bus::internal {

using supervisor_ptr
  = actors::supervisor_actor::stateful_pointer<actors::supervisor_state>;

/// Returns one spec per slot: a partitioned spec becomes one per
/// partition. Records the partition count of each partitioned model.
std::vector<model_spec> expand_partitions(actors::supervisor_state& st,
                                          std::vector<model_spec> specs);

/// Returns the partition count of `model`, or 0 when it is not a
/// partitioned model of this supervisor.
std::uint32_t partitions_of(const actors::supervisor_state& st,
                            const std::string& model);

/// True if `name` names a partition of a model this supervisor runs, but
/// not one it runs: the model runs whole, or as fewer partitions.
bool stale_partition(const actors::supervisor_state& st, std::string_view name);

/// Returns the name of the partition of `model` (with `n` partitions) that
/// holds `key`.
std::string partition_for(const std::string& model, std::uint32_t n,
                          const std::string& key);

/// Asks the partition of `model` (with `n` partitions) that holds `key`
/// and answers under the model's name, as the whole model would.
caf::result<actors::query_result> query_partition(supervisor_ptr self,
                                                  const std::string& model,
                                                  std::uint32_t n, std::string key);

/// What a request asks of every partition of a model.
enum class partition_request { pause, resume, rebuild, restart };

/// Sends `what` to every partition of `model` (as requests to the
/// supervisor itself, so each takes the path a single model's does) and
/// answers, once each has, with the status of the partition furthest
/// behind under the model's name, its counters summed over the partitions;
/// or with the first error.
caf::result<actors::projector_status> steer_partitions(supervisor_ptr self,
                                                       const std::string& model,
                                                       std::uint32_t n,
                                                       partition_request what);

/// Asks every partition of `model` for its snapshot and answers with their
/// states merged (each must be an object of key -> value) at the lowest of
/// their checkpoints.
caf::result<actors::model_snapshot>
snapshot_partitions(supervisor_ptr self, const std::string& model, std::uint32_t n);

/// Refuses a blue/green rebuild of a partitioned model, or of one of its
/// partitions, or one that would make a model partitioned: not supported
/// yet (a rebuild in place rebuilds every partition).
caf::error refuse_partitioned_shadow(const actors::supervisor_state& st,
                                     const model_spec& spec);

/// One status for a model from those of its partitions: the one furthest
/// behind, named `model`, with the counters summed.
actors::projector_status combine_statuses(const std::string& model,
                                          std::vector<actors::projector_status>& parts);

/// The partitions of `model` (with `n` partitions) that run on this node:
/// all of them, unless the model is shared with other nodes.
std::vector<std::uint32_t> local_partitions(const actors::supervisor_state& st,
                                            const std::string& model, std::uint32_t n);

/// From the bus: of `model`, shared with other nodes, this node runs the
/// partitions `mine` and none of the others. Stops the projectors of
/// partitions moved away (once down, they stay stopped) and starts those
/// of partitions moved here, which pull from their checkpoints. Those
/// partitions, and at the first assignment since the node (re)attached
/// every partition it runs, take the bus's pauses (`pauses`).
void assign(supervisor_ptr self, const std::string& model,
            const std::vector<std::uint32_t>& mine,
            const std::vector<actors::partition_pause>& pauses);

/// The error for a request (`what`) that must name one partition of
/// `model`.
caf::error name_a_partition(const std::string& model, std::uint32_t n,
                            const std::string& what);

} // namespace bus::internal
