#pragma once

// The states a read model can be reported in, and the roles of projectors
// in a blue/green rebuild: the one list of each. Statuses carry these enums
// (they travel as their underlying integer); their strings exist only at the
// edges (the node's JSON, logs), through the to_string / from_string pairs
// below. docs/protocol.md documents the list once, in this order.

#include <cstdint>
#include <optional>
#include <string_view>

namespace bus::actors {

/// What a read model is doing, as status reports it.
enum class model_state : std::uint8_t {
  /// Caught up with the log and applying live events.
  running,
  /// Behind the log's head and making progress (after a start, a resume, a
  /// reconnect).
  catching_up,
  /// Loading its snapshot or table at start (restored_rows says how far):
  /// refuses queries, keeps lifecycle requests until done, then catches up.
  restoring,
  /// Behind the head, and its checkpoint has not moved for the stall time,
  /// or it did not answer status within its deadline (apply is busy).
  stalled,
  /// Paused by an operator: takes no events, answers from its frozen state.
  paused,
  /// Reprojecting from seq 1 after a rebuild request.
  rebuilding,
  /// Caught up, apart from events parked as poison (see "parked").
  parked,
  /// Lost its bus (on a projector node): waits for a reconnect.
  disconnected,
  /// Down after a failure (or an operator restart): a new projector starts
  /// after the backoff.
  restarting,
  /// Down for good after its restart budget; retried after a cool-down.
  failed,
  /// Stopped on purpose (shutdown, discard).
  stopped,
  /// A blue/green shadow in the hand-over to live.
  switching,
  /// On another node that is not connected.
  away,
  /// On another node that did not answer in time.
  unreachable,
};

/// Every model_state, in declaration order (for checks and docs).
inline constexpr model_state all_model_states[] = {
  model_state::running, model_state::catching_up,  model_state::restoring,
  model_state::stalled, model_state::paused,       model_state::rebuilding,
  model_state::parked,  model_state::disconnected, model_state::restarting,
  model_state::failed,  model_state::stopped,      model_state::switching,
  model_state::away,    model_state::unreachable,
};

/// Returns the state's name on the wire ("running", "catching_up", ...).
const char* to_string(model_state x) noexcept;

/// Parses a state's name; nothing for an unknown one.
std::optional<model_state> model_state_from_string(std::string_view x) noexcept;

/// Which projector of a model a status describes.
enum class model_role : std::uint8_t {
  /// The projector that answers the model's queries.
  live,
  /// Blue/green: the new definition catching up.
  shadow,
  /// Blue/green: the projector a switch replaced, kept paused.
  previous,
};

/// Every model_role, in declaration order.
inline constexpr model_role all_model_roles[] = {model_role::live, model_role::shadow,
                                                 model_role::previous};

/// Returns "live", "shadow" or "previous".
const char* to_string(model_role x) noexcept;

/// A shadow subscribes to the bus as "<model>~shadow": the bus pushes it
/// events but leaves it out of publish acknowledgements.
inline constexpr std::string_view shadow_suffix = "~shadow";

/// Parses a role's name; nothing for an unknown one.
std::optional<model_role> model_role_from_string(std::string_view x) noexcept;

} // namespace bus::actors
