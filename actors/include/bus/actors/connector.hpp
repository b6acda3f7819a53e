#pragma once

// The connector keeps a projector node attached to its bus, which runs on
// another node. It dials the bus (through a dialer actor, so that tests can
// leave the network out), spawns the node's supervisor on the first
// connection, and attaches the supervisor to the bus so that queries on the
// bus's node reach this node's read models. When the bus is lost (its node
// is down or unreachable), it rebinds the supervisor to no bus at once, so
// that its models report `disconnected`, and dials again with an
// exponential backoff; on
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

#include <caf/fwd.hpp>
#include <caf/io/middleman_actor.hpp>
#include <caf/timespan.hpp>

#include "bus/actors/interfaces.hpp"

namespace bus::actors {

/// Tuning of a connector.
struct connector_options {
  /// This node's name in the bus's directory.
  std::string node = "projector-node";
  /// Read models the node serves (attached for query routing).
  std::vector<std::string> models;
  /// Partitioned models it shares with other nodes that attach them: the
  /// bus assigns their partitions among those nodes.
  std::vector<shared_model> shared;
  /// Delay before the first redial; doubled per failed attempt.
  caf::timespan initial_backoff = std::chrono::milliseconds{100};
  caf::timespan max_backoff = std::chrono::seconds{5};
  /// Timeout of a dial and of the attach request.
  caf::timespan timeout = std::chrono::seconds{5};
  /// Timeout of a dial alone, when it differs (zero: `timeout`): a
  /// failover dialer tries each of its buses in turn, each with its own.
  caf::timespan dial_timeout = caf::timespan{0};
};

/// Spawns the node's supervisor for a bus handle (once, on the first
/// connection).
using supervisor_factory = std::function<supervisor_actor(bus_actor)>;

/// Spawns a connector that dials the bus through `dialer`, spawns the
/// node's supervisor with `make_supervisor` on the first connection, and
/// keeps it attached to the bus (see above).
connector_actor spawn_connector(caf::actor_system& sys, dialer_actor dialer,
                                supervisor_factory make_supervisor,
                                connector_options options);

/// Spawns a dialer that connects to the bus published at `host`:`port`
/// through CAF's middleman (the actor system must have loaded it, see
/// bus::enable_network), checking that the actor found there is a bus.
dialer_actor spawn_remote_dialer(caf::actor_system& sys, std::string host,
                                 std::uint16_t port, caf::timespan timeout);

/// Spawns a dialer like the one above that connects through `via`, a
/// middleman actor: for TLS, the one of CAF's OpenSSL module
/// (`sys.openssl_manager().actor_handle()`).
dialer_actor spawn_remote_dialer(caf::actor_system& sys, std::string host,
                                 std::uint16_t port, caf::timespan timeout,
                                 caf::io::middleman_actor via);

/// One bus a failover dialer may reach: its address, for errors and logs,
/// and the dialer that reaches it.
struct dial_target {
  std::string where;
  dialer_actor dialer;
};

/// Spawns a dialer over several buses of which at most one leads (a bus
/// node standing by publishes nothing): each dial tries them in turn,
/// each with `timeout`, starting with the one reached last, and answers
/// the first bus reached; when none is, it fails with every reason.
dialer_actor spawn_failover_dialer(caf::actor_system& sys,
                                   std::vector<dial_target> targets,
                                   caf::timespan timeout);

} // namespace bus::actors
