#pragma once

// The rules for what a node exposes beyond its machine, checked once after
// parse(): TLS options (tls_files.hpp) go with a bus connection; plaintext
// off loopback needs an explicit --insecure (and listening there
// --allow-remote too), because whoever reaches a plain bus port can read
// and publish every event and the admin endpoint speaks plain HTTP.

#include <optional>

#include "bus/endpoint.hpp"
#include "command_line.hpp"
#include "tls_files.hpp"

namespace bus::app {

/// What a node listens on or connects to, and the flags that allow it.
struct network_exposure {
  /// bus-node --listen: the bus protocol (over TLS when the files are set).
  const endpoint* listen = nullptr;
  /// bus-projector --connect: the bus protocol, as a client.
  const endpoint* connect = nullptr;
  /// --admin: plain HTTP, never TLS.
  const endpoint* admin = nullptr;
  bool allow_remote = false;
  bool insecure = false;
};

/// Checks the TLS files (when any is given) and the rules above. Returns
/// the exit status (2, after a message on stderr) when the node must not
/// start, nullopt when it may.
std::optional<int> check_exposure(const command_line& cli, const tls_files& tls,
                                  const network_exposure& what);

} // namespace bus::app
