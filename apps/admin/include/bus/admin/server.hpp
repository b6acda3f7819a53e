#pragma once

// The admin endpoint over HTTP (docs/admin-api.md): status, health,
// metrics, the log, and the lifecycle and parked events of the models,
// plus the embedded web page. It runs on a thread of its own (Boost.Asio)
// and reaches the node only through its actors: a gateway actor asks the
// bus and the supervisor (or, on a projector node, the connector for them)
// with a timeout on every request, and hands the answer back to the HTTP
// thread. Nothing of an actor's state is touched from outside it.
//
// Bounds: at most `max_connections` connections (one more is answered 503
// and closed), a request's header and body are bounded (431, 413), and a
// client that does not send its request within `read_timeout` is closed,
// so a slow or dead client holds nothing.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "bus/actors/connector.hpp"
#include "bus/actors/interfaces.hpp"
#include "bus/endpoint.hpp"
#include "bus/leadership.hpp"

namespace bus::admin {

struct admin_options {
  /// Where to listen (port 0: a free one).
  endpoint at;
  /// A bus node: its bus and supervisor.
  actors::bus_actor bus;
  actors::supervisor_actor supervisor;
  /// A projector node: its connector, which knows the supervisor and the
  /// bus (set this instead of the two above).
  actors::connector_actor connector;
  /// Every request to an actor fails after this long (503).
  std::chrono::milliseconds timeout{10'000};
  std::size_t max_connections = 64;
  std::size_t max_body_bytes = 64 * 1024;
  std::size_t max_header_bytes = 8 * 1024;
  /// A request must arrive whole within this long (also the limit of an
  /// idle keep-alive connection and of writing an answer).
  std::chrono::milliseconds read_timeout{10'000};
  /// A bus node leading its log by lease: its lease as last seen, shown
  /// in /status, /health and /metrics. Called from the endpoint's actor:
  /// it must be thread-safe and quick.
  std::function<std::optional<leadership>()> lease;

  /// The options of a bus node's endpoint at `at`.
  static admin_options of_bus_node(endpoint at, actors::bus_actor bus,
                                   actors::supervisor_actor supervisor);

  /// The options of a projector node's endpoint at `at`.
  static admin_options of_projector_node(endpoint at,
                                         actors::connector_actor connector);
};

/// A running endpoint; destroying it stops it (its thread and its actor),
/// which must happen before the actor system goes.
class server {
public:
  virtual ~server();

  /// The port it listens on (the one picked, for port 0).
  virtual std::uint16_t port() const noexcept = 0;

  /// `http://HOST:PORT/` (an IPv6 host in brackets).
  std::string url() const;

protected:
  explicit server(std::string host) : host_(std::move(host)) {}

private:
  std::string host_;
};

/// Checks that the endpoint may serve at `at`: a HOST that is not loopback
/// needs `allow_remote` (the endpoint has no authentication); the error
/// says so, naming the host.
caf::error check_endpoint(const endpoint& at, bool allow_remote);

/// Starts serving; fails when it cannot listen there.
caf::expected<std::unique_ptr<server>> serve(caf::actor_system& sys,
                                             admin_options options);

} // namespace bus::admin
