#pragma once

// The connector keeps a projector node attached to its bus, which runs on
// another node. It dials the bus (through a dialer actor, so that tests can
// leave the network out), spawns the node's supervisor on the first
// connection, and attaches the supervisor to the bus so that queries on the
// bus's node reach this node's read models. When the bus is lost (its node
// is down or unreachable), it dials again with an exponential backoff; on
// each reconnection it rebinds the supervisor to the new bus handle, whose
// projectors subscribe again and pull from their checkpoints, then attaches
// again. An exit message stops the supervisor, then the connector.
// Connections and losses are logged through bus/log.hpp (source
// "connector", the node's name first in the message).

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>
#include <caf/timespan.hpp>

#include "bus/actors/fwd.hpp"

namespace bus::actors {

/// Tuning of a connector.
struct connector_options {
  /// This node's name in the bus's directory.
  std::string node = "projector-node";
  /// Read models the node serves (attached for query routing).
  std::vector<std::string> models;
  /// Delay before the first redial; doubled per failed attempt.
  caf::timespan initial_backoff = std::chrono::milliseconds{100};
  caf::timespan max_backoff = std::chrono::seconds{5};
  /// Timeout of a dial and of the attach request.
  caf::timespan timeout = std::chrono::seconds{5};
};

/// Spawns the node's supervisor for a bus handle (once, on the first
/// connection).
using supervisor_factory = std::function<supervisor_actor(bus_actor)>;

/// What a connector reports about its link.
struct link_status {
  bool connected = false;
  /// Successful connections so far (reconnections included).
  std::uint32_t connections = 0;
  /// Failed dials since the last connection.
  std::uint32_t failed_attempts = 0;
  std::string last_error;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, link_status& x) {
  return f(caf::meta::type_name("bus.link_status"), x.connected, x.connections,
           x.failed_attempts, x.last_error);
}

using connector_actor
  = caf::typed_actor<caf::replies_to<status_atom>::with<link_status>,
                     // The node's supervisor and the bus it is attached to
                     // now; null handles before the first connection (the
                     // supervisor) or while the bus is lost (the bus).
                     caf::replies_to<handles_atom>::with<supervisor_actor, bus_actor>,
                     // Internal: dial now (sent to itself after a backoff).
                     caf::reacts_to<dial_atom, std::uint64_t>>;

struct connector_state {
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

/// Spawns with `sys.spawn(connector_impl, dialer, make_supervisor, options)`.
connector_actor::behavior_type
connector_impl(connector_actor::stateful_pointer<connector_state> self,
               dialer_actor dialer, supervisor_factory make_supervisor,
               connector_options options);

/// A dialer that connects to the bus published at `host`:`port` through
/// CAF's middleman (the actor system must have loaded it), checking that
/// the actor found there is a bus.
dialer_actor::behavior_type
remote_dialer_impl(dialer_actor::pointer self, std::string host,
                   std::uint16_t port, caf::timespan timeout);

} // namespace bus::actors
