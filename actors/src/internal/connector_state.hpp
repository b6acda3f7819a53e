#pragma once

// The connector's state (see bus/actors/connector.hpp), read by tests;
// never installed.

#include <cstdint>
#include <string>

#include "bus/actors/connector.hpp"

namespace bus::actors {

struct connector_state {
  // Not an aggregate: CAF would otherwise try to build it from the actor's
  // self pointer in C++20 (its first member is a handle).
  connector_state() = default;

  dialer_actor dialer;
  supervisor_factory make_supervisor;
  connector_options options;
  supervisor_actor supervisor;
  bus_actor bus;
  link_status link;
  /// Bumped by every dial, so that a stale redial timer is ignored.
  std::uint64_t dial_generation = 0;

  static inline const char* name = "connector";
};

/// The connector's behavior (spawn_connector spawns it).
connector_actor::behavior_type
connector_impl(connector_actor::stateful_pointer<connector_state> self,
               dialer_actor dialer, supervisor_factory make_supervisor,
               connector_options options);

/// The remote dialer's behavior (spawn_remote_dialer spawns it): connects
/// through the middleman actor `via`.
dialer_actor::behavior_type remote_dialer_impl(dialer_actor::pointer self,
                                               std::string host, std::uint16_t port,
                                               caf::timespan timeout,
                                               caf::io::middleman_actor via);

} // namespace bus::actors
