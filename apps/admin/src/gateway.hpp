#pragma once

// The admin endpoint's gateway: the one actor through which the HTTP thread
// reaches the node. It takes a routed request with a callback, asks the
// bus and the supervisor (on a projector node, first the connector for
// them) with a timeout on every request, renders the answer and hands it
// to the callback, which posts it back to the HTTP thread. The gateway
// never blocks, and nothing outside an actor touches its state.

#include <chrono>
#include <functional>
#include <optional>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/typed_actor.hpp>

#include "bus/actors/connector.hpp"
#include "bus/actors/interfaces.hpp"
#include "bus/admin/answer.hpp"
#include "bus/admin/routes.hpp"
#include "bus/leadership.hpp"

namespace bus::admin {

/// A request for the gateway, answered through `reply` (called once, from
/// the gateway's thread).
struct admin_call {
  route what;
  std::function<void(answer)> reply;
};

using gateway_actor = caf::typed_actor<caf::reacts_to<admin_call>>;

struct gateway_config {
  /// A bus node's actors, or a projector node's connector.
  actors::bus_actor bus;
  actors::supervisor_actor supervisor;
  actors::connector_actor connector;
  std::chrono::milliseconds timeout{10'000};
  /// The node's lease, if it leads its log by one (admin_options).
  std::function<std::optional<leadership>()> lease;
};

struct gateway_state {
  gateway_config config;
  /// On a projector node: the bus's status as last seen, for when the bus
  /// cannot be reached now.
  actors::bus_status last_bus;

  static inline const char* name = "admin";
};

gateway_actor::behavior_type
gateway_impl(gateway_actor::stateful_pointer<gateway_state> self,
             gateway_config config);

} // namespace bus::admin

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(bus::admin::admin_call)
