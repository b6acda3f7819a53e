#pragma once

// What actors on other nodes may ask of a bus and of the supervisor on its
// node. Nodes that reach a bus are projector nodes (bus-projector) unless
// the bus's owner says otherwise; mutual TLS decides who connects at all,
// the role what a connected node may do. Local actors may do everything.
// A message without a sender counts as from another node, since nothing
// shows where it came from.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bus::actors {

/// The rights of every other node, from fewest to most.
enum class peer_role : std::uint8_t {
  /// What a projector node needs: subscribe, unsubscribe, replay, head,
  /// status and attach on the bus; query, snapshot, status and ready on the
  /// supervisor. Publishing and every lifecycle request are refused with
  /// errc::forbidden.
  projector,
  /// A projector's rights, plus publish and resolve on the bus.
  publisher,
  /// Everything, like a local actor: no check (the default of a bus that
  /// no other node reaches).
  unrestricted,
};

/// "projector", "publisher" or "unrestricted".
std::string to_string(peer_role x);

/// The role named `text`, nullopt for any other text.
std::optional<peer_role> parse_peer_role(std::string_view text);

} // namespace bus::actors
