#include "bus/admin/health.hpp"

#include "bus/admin/json_style.hpp"

namespace bus::admin {

using actors::model_role;
using actors::model_state;

bool healthy_state(model_state x) noexcept {
  return x == model_state::running || x == model_state::catching_up
         || x == model_state::restoring;
}

health_verdict judge_health(const std::vector<actors::projector_status>& models) {
  health_verdict result;
  for (auto& m : models) {
    if (m.role != model_role::live || healthy_state(m.state))
      continue;
    result.healthy = false;
    if (!result.reason.empty())
      result.reason += "; ";
    result.reason += "model " + m.model + " is " + to_string(m.state);
    if (!m.last_error.empty())
      result.reason += ": " + m.last_error;
  }
  return result;
}

void judge_store(const actors::bus_status& bus, health_verdict& verdict) {
  if (bus.store_state == store_state::healthy)
    return;
  verdict.healthy = false;
  // A fenced store is well: another node holds the lease (postgres_log).
  // A failed one takes no events until the node restarts, or for a store on
  // a server until it reconnects.
  std::string why
    = bus.store_state == store_state::fenced
        ? "the store is fenced: " + bus.store_error
            + " (this node takes no events while another one leads)"
        : "the store failed: " + bus.store_error
            + " (it takes no events until the node restarts, or for a store on a "
              "server until it reconnects)";
  verdict.reason = verdict.reason.empty() ? why : why + "; " + verdict.reason;
}

void judge_lease(const std::optional<leadership>& lead, health_verdict& verdict) {
  if (!lead || lead->state == lead_state::leading)
    return;
  verdict.healthy = false;
  std::string why = lead->state == lead_state::lost
                      ? "this node no longer leads the log: " + lead->why
                          + " (it answers no request; another bus node leads)"
                      : "this node is not sure it still leads the log: " + lead->why
                          + " (it answers no request until its lease is renewed)";
  verdict.reason = verdict.reason.empty() ? why : why + "; " + verdict.reason;
}

std::string render_health(const health_verdict& verdict,
                          const std::vector<actors::projector_status>& models) {
  std::string out = "{\"healthy\": ";
  out += verdict.healthy ? "true" : "false";
  out += ", \"reason\": ";
  render_string(out, verdict.reason);
  out += ", \"models\": [";
  bool first = true;
  for (auto& m : models) {
    if (m.role != model_role::live)
      continue;
    if (!first)
      out += ", ";
    first = false;
    out += "{\"model\": ";
    render_string(out, m.model);
    out += ", \"state\": ";
    render_string(out, to_string(m.state));
    out += '}';
  }
  out += "]}";
  return out;
}

} // namespace bus::admin
