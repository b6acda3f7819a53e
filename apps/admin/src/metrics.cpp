#include "bus/admin/metrics.hpp"

#include "bus/admin/prometheus.hpp"
#include "bus/admin/status_render.hpp"

namespace bus::admin {

namespace {

using actors::projector_status;

// Writes one family with a sample per model, labelled model and role.
template <class Value>
void per_model(prometheus_writer& w, const std::vector<projector_status>& models,
               std::string_view name, metric_type type, std::string_view help,
               Value value) {
  w.family(name, type, help);
  for (auto& m : models)
    w.sample(name, {{"model", m.model}, {"role", to_string(m.role)}}, value(m));
}

} // namespace

std::string render_metrics(node_kind node, const actors::bus_status& seen,
                           const std::vector<projector_status>& models,
                           const std::optional<leadership>& lead) {
  auto bus = head_covering(seen, models);
  prometheus_writer w;
  w.family("bus_log_head", metric_type::gauge,
           node == node_kind::bus
             ? "Seq of the last durable event in the log."
             : "Seq of the last event in the bus's log, as this node last saw it.");
  w.sample("bus_log_head", {}, bus.head);
  if (node == node_kind::bus) {
    w.family("bus_events_appended_total", metric_type::counter,
             "Events appended to the log (made durable) since the node started.");
    w.sample("bus_events_appended_total", {}, bus.appended);
    w.family("bus_events_duplicate_total", metric_type::counter,
             "Published events the log held already (redeliveries), not appended.");
    w.sample("bus_events_duplicate_total", {}, bus.duplicates);
    w.family("bus_subscribers", metric_type::gauge,
             "Projectors subscribed to the bus, of this node and of others.");
    w.sample("bus_subscribers", {}, static_cast<std::uint64_t>(bus.subscribers));
    if (bus.store.measured) {
      w.family(
        "bus_store_commit_seconds", metric_type::histogram,
        "Time to commit a batch of appended events to the store, fsync included.");
      w.histogram("bus_store_commit_seconds", {}, bus.store.commit);
      w.family("bus_store_fsync_seconds", metric_type::histogram,
               "Time of each fsync the store asked of the file system.");
      w.histogram("bus_store_fsync_seconds", {}, bus.store.fsync);
      w.family("bus_store_failed", metric_type::gauge,
               "1 once the store failed on a write or an fsync: it takes no events "
               "until the node restarts.");
      w.sample("bus_store_failed", {},
               std::uint64_t{bus.store_state == store_state::failed ? 1u : 0u});
      w.family("bus_store_state", metric_type::gauge,
               "1 for the state the store is in (healthy, failed, or fenced: "
               "another bus node leads the log), 0 for the others.");
      for (auto state :
           {store_state::healthy, store_state::failed, store_state::fenced})
        w.sample("bus_store_state", {{"state", to_string(state)}},
                 std::uint64_t{bus.store_state == state ? 1u : 0u});
    }
    if (lead) {
      w.family("bus_lease_state", metric_type::gauge,
               "1 for the state of this node's lease on the log (leading, "
               "unsure, lost), 0 for the others.");
      for (auto state : all_lead_states)
        w.sample("bus_lease_state", {{"state", to_string(state)}},
                 std::uint64_t{lead->state == state ? 1u : 0u});
      w.family("bus_lease_token", metric_type::gauge,
               "The fencing token of this node's lease: it counts up with each "
               "takeover of the log.");
      w.sample("bus_lease_token", {}, static_cast<std::uint64_t>(lead->token));
    }
    w.family("bus_actor_mailbox_messages", metric_type::gauge,
             "Messages waiting in an actor's mailbox, as the actor saw it.");
    w.sample("bus_actor_mailbox_messages", {{"actor", "bus"}}, bus.mailbox);
  }
  w.family("bus_model_state", metric_type::gauge,
           "1 for the state the model is in, 0 for every other state.");
  for (auto& m : models)
    for (auto state : actors::all_model_states)
      w.sample(
        "bus_model_state",
        {{"model", m.model}, {"role", to_string(m.role)}, {"state", to_string(state)}},
        std::uint64_t{m.state == state ? 1u : 0u});
  per_model(w, models, "bus_model_checkpoint", metric_type::gauge,
            "Every event up to this seq is processed by the model.",
            [](auto& m) { return m.checkpoint; });
  per_model(
    w, models, "bus_model_applied_total", metric_type::counter,
    "Events the model took, live and replayed (restarts from 0 with its projector).",
    [](auto& m) { return m.applied; });
  per_model(w, models, "bus_model_skipped_total", metric_type::counter,
            "Redeliveries the model skipped because it had processed them before.",
            [](auto& m) { return m.skipped; });
  per_model(w, models, "bus_model_parked", metric_type::gauge,
            "Events parked in the model's dead-letter store now.",
            [](auto& m) { return m.parked; });
  per_model(w, models, "bus_model_lag_events", metric_type::gauge,
            "Events between the model's checkpoint and the log's head.",
            [&](auto& m) { return lag_of(m, bus).events; });
  per_model(
    w, models, "bus_model_lag_seconds", metric_type::gauge,
    "How much older the event at the model's checkpoint is than the head event.",
    [&](auto& m) { return static_cast<double>(lag_of(m, bus).ms) / 1000.0; });
  per_model(w, models, "bus_model_restarts_total", metric_type::counter,
            "Restarts of the model after failures.",
            [](auto& m) { return std::uint64_t{m.restarts}; });
  per_model(w, models, "bus_model_rebuilds_total", metric_type::counter,
            "Rebuilds of the model requested (restarts from 0 with its projector).",
            [](auto& m) { return std::uint64_t{m.rebuilds}; });
  per_model(w, models, "bus_model_mailbox_messages", metric_type::gauge,
            "Messages waiting in the model's projector mailbox, as it saw it.",
            [](auto& m) { return m.mailbox; });
  w.family("bus_model_apply_latency_seconds", metric_type::histogram,
           "From an event's append to its apply by the model, for events pushed live "
           "(restarts from 0 with its projector).");
  for (auto& m : models)
    w.histogram("bus_model_apply_latency_seconds",
                {{"model", m.model}, {"role", to_string(m.role)}}, m.apply_latency);
  return w.text();
}

} // namespace bus::admin
