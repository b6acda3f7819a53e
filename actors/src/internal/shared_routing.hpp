#pragma once

// On a bus's node (a routing supervisor), requests about a model that
// projector nodes share (bus/consumer_group.hpp): a query goes to the node
// that runs the partition of its key, pause, resume, rebuild and restart to
// every node that shares the model, and requests that need one partition
// say so. Runs in the supervisor's actor.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/typed_response_promise.hpp>

#include "internal/partitioned.hpp"

namespace bus::internal {

/// The partition count of `model` if live or lost nodes in `nodes` share
/// it, else 0.
std::uint32_t shared_partitions(const std::vector<actors::node_entry>& nodes,
                                const std::string& model);

/// Queries the node that runs the partition of `key` and answers under
/// `model`.
void query_shared(supervisor_ptr self,
                  caf::typed_response_promise<actors::query_result> rp,
                  const std::vector<actors::node_entry>& nodes,
                  const std::string& model, std::uint32_t n, std::string key);

/// Sends `what` about `model` to every live node that shares it (each
/// steers the partitions it runs) and answers with their statuses combined
/// (combine_statuses), or the first error.
void steer_shared(supervisor_ptr self,
                  caf::typed_response_promise<actors::projector_status> rp,
                  const std::vector<actors::node_entry>& nodes,
                  const std::string& model, partition_request what);

// The routing of each request a routing supervisor forwards (its atom
// picks the overload); the requests not listed need one partition.

inline void route_shared(supervisor_ptr self,
                         caf::typed_response_promise<actors::query_result> rp,
                         const std::vector<actors::node_entry>& nodes,
                         const std::string& model, std::uint32_t n, actors::query_atom,
                         std::string, std::string key) {
  query_shared(self, std::move(rp), nodes, model, n, std::move(key));
}

inline void route_shared(supervisor_ptr self,
                         caf::typed_response_promise<actors::projector_status> rp,
                         const std::vector<actors::node_entry>& nodes,
                         const std::string& model, std::uint32_t, actors::pause_atom,
                         std::string) {
  steer_shared(self, std::move(rp), nodes, model, partition_request::pause);
}

inline void route_shared(supervisor_ptr self,
                         caf::typed_response_promise<actors::projector_status> rp,
                         const std::vector<actors::node_entry>& nodes,
                         const std::string& model, std::uint32_t, actors::resume_atom,
                         std::string) {
  steer_shared(self, std::move(rp), nodes, model, partition_request::resume);
}

inline void route_shared(supervisor_ptr self,
                         caf::typed_response_promise<actors::projector_status> rp,
                         const std::vector<actors::node_entry>& nodes,
                         const std::string& model, std::uint32_t, actors::rebuild_atom,
                         std::string) {
  steer_shared(self, std::move(rp), nodes, model, partition_request::rebuild);
}

inline void route_shared(supervisor_ptr self,
                         caf::typed_response_promise<actors::projector_status> rp,
                         const std::vector<actors::node_entry>& nodes,
                         const std::string& model, std::uint32_t, actors::restart_atom,
                         std::string) {
  steer_shared(self, std::move(rp), nodes, model, partition_request::restart);
}

template <class T, class... Ts>
void route_shared(supervisor_ptr, caf::typed_response_promise<T> rp,
                  const std::vector<actors::node_entry>&, const std::string& model,
                  std::uint32_t n, Ts&&...) {
  rp.deliver(name_a_partition(model, n, "this request names"));
}

} // namespace bus::internal
