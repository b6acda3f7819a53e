#include "bus/actors/model_state.hpp"

namespace bus::actors {

const char* to_string(model_state x) noexcept {
  switch (x) {
    case model_state::running:
      return "running";
    case model_state::catching_up:
      return "catching_up";
    case model_state::restoring:
      return "restoring";
    case model_state::stalled:
      return "stalled";
    case model_state::paused:
      return "paused";
    case model_state::rebuilding:
      return "rebuilding";
    case model_state::parked:
      return "parked";
    case model_state::disconnected:
      return "disconnected";
    case model_state::restarting:
      return "restarting";
    case model_state::failed:
      return "failed";
    case model_state::stopped:
      return "stopped";
    case model_state::switching:
      return "switching";
    case model_state::away:
      return "away";
    case model_state::unreachable:
      return "unreachable";
  }
  return "unknown";
}

std::optional<model_state> model_state_from_string(std::string_view x) noexcept {
  for (auto v : all_model_states)
    if (x == to_string(v))
      return v;
  return std::nullopt;
}

const char* to_string(model_role x) noexcept {
  switch (x) {
    case model_role::live:
      return "live";
    case model_role::shadow:
      return "shadow";
    case model_role::previous:
      return "previous";
  }
  return "unknown";
}

std::optional<model_role> model_role_from_string(std::string_view x) noexcept {
  for (auto v : all_model_roles)
    if (x == to_string(v))
      return v;
  return std::nullopt;
}

} // namespace bus::actors
