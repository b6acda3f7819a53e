#pragma once

// Forward declarations of the framework's actor-side types, for headers that
// only name them (a function taking a `const publish_ack&`). The typed actor
// handles are aliases of CAF templates and cannot be declared ahead: include
// interfaces.hpp for them.

#include <cstdint>

namespace bus::actors {

// messages.hpp
struct publish_outcome;
struct model_ack;
struct publish_ack;
struct delivery_ack;
struct query_result;
struct model_snapshot;
struct projector_status;
struct model_checkpoint;
struct parked_list;
struct bus_status;
struct node_entry;
struct shared_model;
struct partition_pause;
struct link_status;
enum class publish_wait : std::uint8_t;
enum class publish_order : std::uint8_t;
enum class shadow_wait : std::uint8_t;
enum class partition_intent : std::uint8_t;

// model_state.hpp
enum class model_state : std::uint8_t;
enum class model_role : std::uint8_t;

// bus_actor.hpp, projector.hpp, supervisor.hpp, connector.hpp
struct bus_options;
struct batch_hooks;
struct projector_options;
struct remote_routing;
struct connector_options;

} // namespace bus::actors
