#include "bus/admin/status_render.hpp"

#include <algorithm>

#include "bus/admin/json_style.hpp"

namespace bus::admin {

namespace {

// Renders one model's status; `extra` are the blue/green projectors of the
// same model (a shadow, a kept previous one), nested under their role.
void render_model_status(std::string& out, const actors::projector_status& s,
                         const actors::bus_status& bus,
                         const std::vector<actors::projector_status>& extra = {}) {
  auto lag = lag_of(s, bus);
  out += '{';
  render_key(out, "model");
  render_string(out, s.model);
  out += ", ";
  render_key(out, "state");
  render_string(out, to_string(s.state));
  out += ", \"checkpoint\": " + std::to_string(s.checkpoint);
  out += ", \"lag_events\": " + std::to_string(lag.events);
  out += ", \"lag_ms\": " + std::to_string(lag.ms);
  out += ", \"applied\": " + std::to_string(s.applied);
  out += ", \"skipped\": " + std::to_string(s.skipped);
  out += ", \"rebuilds\": " + std::to_string(s.rebuilds);
  out += ", \"restarts\": " + std::to_string(s.restarts);
  out += ", \"parked\": " + std::to_string(s.parked);
  out += ", \"stalled_ms\": " + std::to_string(s.stalled_ms);
  out += ", \"restored_rows\": " + std::to_string(s.restored_rows);
  out += ", ";
  render_key(out, "last_error");
  render_string(out, s.last_error);
  for (auto& x : extra) {
    if (x.model != s.model || x.role == s.role)
      continue;
    out += ", ";
    render_key(out, to_string(x.role));
    render_model_status(out, x, bus);
  }
  out += '}';
}

} // namespace

actors::bus_status head_covering(actors::bus_status bus,
                                 const std::vector<actors::projector_status>& models) {
  for (auto& m : models)
    if (m.checkpoint > bus.head) {
      bus.head = m.checkpoint;
      bus.head_timestamp = std::max(bus.head_timestamp, m.checkpoint_timestamp);
    }
  return bus;
}

model_lag lag_of(const actors::projector_status& s, const actors::bus_status& bus) {
  model_lag result;
  result.events = bus.head > s.checkpoint ? bus.head - s.checkpoint : 0;
  // At checkpoint 0 no event of its own dates the model (an away model's
  // checkpoint is not even known): its lag runs from the log's first event.
  auto since = s.checkpoint > 0 ? s.checkpoint_timestamp : bus.first_timestamp;
  if (result.events > 0 && since > 0 && bus.head_timestamp > since)
    result.ms = (bus.head_timestamp - since) / 1000000;
  return result;
}

void render_status_fields(std::string& out, const actors::bus_status& seen,
                          const std::vector<actors::projector_status>& models) {
  auto bus = head_covering(seen, models);
  out += "\"head\": " + std::to_string(bus.head);
  out += ", \"read_models\": [";
  // Live projectors come first, in the order given; blue/green shadows and
  // kept projectors nest under them.
  std::vector<actors::projector_status> extra;
  for (auto& m : models)
    if (m.role != actors::model_role::live)
      extra.push_back(m);
  bool first = true;
  for (auto& m : models) {
    if (m.role != actors::model_role::live)
      continue;
    if (!first)
      out += ", ";
    first = false;
    render_model_status(out, m, bus, extra);
  }
  out += ']';
}

} // namespace bus::admin
