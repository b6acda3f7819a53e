#include "render.hpp"

#include <cmath>
#include <cstdio>
#include <ctime>

#include <boost/json/serialize.hpp>

#include "table.hpp"

namespace busctl {

namespace json = boost::json;

std::int64_t int_of(const json::object& obj, const char* key) {
  auto i = obj.find(key);
  if (i == obj.end())
    return 0;
  if (auto* x = i->value().if_int64())
    return *x;
  if (auto* x = i->value().if_uint64())
    return static_cast<std::int64_t>(*x);
  if (auto* x = i->value().if_double())
    return static_cast<std::int64_t>(*x);
  return 0;
}

std::string string_of(const json::object& obj, const char* key) {
  auto i = obj.find(key);
  if (i == obj.end())
    return {};
  if (auto* s = i->value().if_string())
    return std::string{s->data(), s->size()};
  if (i->value().is_null())
    return {};
  return json::serialize(i->value());
}

std::string utc_time(std::int64_t ms) {
  auto secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  auto n = std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03d", static_cast<int>(ms % 1000));
  return buf;
}

namespace {

const json::array& array_of(const json::object& obj, const char* key) {
  static const json::array none;
  auto i = obj.find(key);
  if (i == obj.end() || !i->value().is_array())
    return none;
  return i->value().get_array();
}

// Models of a status answer, each with the blue/green projectors nested
// under it, as (label, entry) in order.
std::vector<std::pair<std::string, const json::object*>>
model_rows(const json::object& status) {
  std::vector<std::pair<std::string, const json::object*>> rows;
  for (auto& m : array_of(status, "read_models")) {
    auto* obj = m.if_object();
    if (obj == nullptr)
      continue;
    auto name = string_of(*obj, "model");
    rows.emplace_back(name, obj);
    for (auto* role : {"shadow", "previous"})
      if (auto i = obj->find(role); i != obj->end() && i->value().is_object())
        rows.emplace_back(name + " (" + role + ")", &i->value().get_object());
  }
  return rows;
}

std::string state_cell(const json::object& m) {
  auto state = string_of(m, "state");
  if (auto stalled = int_of(m, "stalled_ms"); stalled > 0)
    state += " " + duration_text(stalled);
  if (state == "restoring")
    state += " " + with_commas(int_of(m, "restored_rows")) + " rows";
  return state;
}

std::string per_second_text(double per_s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f/s", per_s);
  return buf;
}

std::string node_line(const json::object& status) {
  auto node = string_of(status, "node");
  auto models = array_of(status, "read_models").size();
  return (node.empty() ? std::string{"node"} : node + " node") + ", head "
         + with_commas(int_of(status, "head")) + ", " + std::to_string(models)
         + (models == 1 ? " read model\n" : " read models\n");
}

} // namespace

std::string render_status(const json::object& status, const rates* applied_per_s) {
  std::vector<column> cols{{"MODEL"},
                           {"STATE"},
                           {"CHECKPOINT", align::right},
                           {"LAG", align::right},
                           {"LAG TIME", align::right},
                           {"APPLIED", align::right}};
  if (applied_per_s != nullptr)
    cols.push_back({"RATE", align::right});
  for (auto* title : {"SKIPPED", "PARKED", "RESTARTS", "REBUILDS"})
    cols.push_back({title, align::right});
  cols.push_back({"LAST ERROR"});
  table t{cols};
  for (auto& [label, m] : model_rows(status)) {
    std::vector<std::string> row{label,
                                 state_cell(*m),
                                 with_commas(int_of(*m, "checkpoint")),
                                 with_commas(int_of(*m, "lag_events")),
                                 duration_text(int_of(*m, "lag_ms")),
                                 with_commas(int_of(*m, "applied"))};
    if (applied_per_s != nullptr) {
      auto i = applied_per_s->find(label);
      row.push_back(i == applied_per_s->end() ? "" : per_second_text(i->second));
    }
    for (auto* key : {"skipped", "parked", "restarts", "rebuilds"})
      row.push_back(with_commas(int_of(*m, key)));
    row.push_back(clip(string_of(*m, "last_error"), 60));
    t.add(std::move(row));
  }
  return node_line(status) + (t.empty() ? "" : "\n" + t.render());
}

std::string render_lag(const json::object& status) {
  auto head = int_of(status, "head");
  table t{{{"MODEL"},
           {"STATE"},
           {"CHECKPOINT", align::right},
           {"HEAD", align::right},
           {"LAG", align::right},
           {"LAG TIME", align::right}}};
  for (auto& [label, m] : model_rows(status))
    t.add({label, state_cell(*m), with_commas(int_of(*m, "checkpoint")),
           with_commas(head), with_commas(int_of(*m, "lag_events")),
           duration_text(int_of(*m, "lag_ms"))});
  return node_line(status) + (t.empty() ? "" : "\n" + t.render());
}

std::string render_health(const json::object& health) {
  auto i = health.find("healthy");
  bool healthy = i != health.end() && i->value().is_bool() && i->value().get_bool();
  std::string out = healthy ? "healthy\n"
                            : "unhealthy: " + string_of(health, "reason") + "\n";
  table t{{{"MODEL"}, {"STATE"}}};
  for (auto& m : array_of(health, "models"))
    if (auto* obj = m.if_object())
      t.add({string_of(*obj, "model"), string_of(*obj, "state")});
  return out + (t.empty() ? "" : "\n" + t.render());
}

namespace {

// The rows of a parked list; empty when nothing is parked.
std::string parked_table(const json::array& parked) {
  if (parked.empty())
    return {};
  table t{{{"SEQ", align::right},
           {"EVENT ID"},
           {"TYPE"},
           {"KEY"},
           {"REASON"},
           {"ATTEMPTS", align::right},
           {"PARKED AT (UTC)"},
           {"ERROR"}}};
  for (auto& p : parked) {
    auto* entry = p.if_object();
    if (entry == nullptr)
      continue;
    json::object event;
    if (auto e = entry->find("event"); e != entry->end() && e->value().is_object())
      event = e->value().get_object();
    auto seq = entry->contains("seq") ? int_of(*entry, "seq") : int_of(event, "seq");
    auto reason = string_of(*entry, "reason");
    if (reason == "behind")
      reason += " " + with_commas(int_of(*entry, "behind"));
    t.add({with_commas(seq), string_of(event, "id"), string_of(event, "type"),
           string_of(*entry, "key"), reason, std::to_string(int_of(*entry, "attempts")),
           utc_time(int_of(*entry, "parked_at")),
           clip(string_of(*entry, "error"), 80)});
  }
  return t.render();
}

} // namespace

std::string render_parked(const json::object& reply) {
  auto& parked = array_of(reply, "parked");
  auto model = string_of(reply, "model");
  if (parked.empty())
    return model + ": no parked events\n";
  return model + ": " + std::to_string(parked.size()) + " parked\n\n"
         + parked_table(parked);
}

std::string render_unparked(const json::object& reply, const char* verb) {
  auto done = int_of(reply, "done");
  auto left = array_of(reply, "parked").size();
  auto out = string_of(reply, "model") + ": " + verb + " " + with_commas(done)
             + (done == 1 ? " event" : " events") + ", " + std::to_string(left)
             + " still parked\n";
  return out;
}

std::string render_steered(const json::object& reply) {
  return string_of(reply, "model") + ": " + string_of(reply, "state") + "\n";
}

std::string render_events(const json::object& page, std::size_t payload_width) {
  table t{{{"SEQ", align::right}, {"APPENDED (UTC)"}, {"TYPE"}, {"ID"}, {"PAYLOAD"}}};
  for (auto& e : array_of(page, "events")) {
    auto* event = e.if_object();
    if (event == nullptr)
      continue;
    std::string payload;
    if (auto p = event->find("payload"); p != event->end())
      payload = json::serialize(p->value());
    t.add({with_commas(int_of(*event, "seq")), utc_time(int_of(*event, "timestamp_ms")),
           string_of(*event, "type"), string_of(*event, "id"),
           clip(payload, payload_width)});
  }
  auto head = int_of(page, "head");
  auto next = int_of(page, "next");
  std::string footer;
  if (next <= head)
    footer = "more: busctl events --from " + std::to_string(next) + " (head "
             + with_commas(head) + ")\n";
  else
    footer = "end of the log (head " + with_commas(head) + ")\n";
  return (t.empty() ? std::string{"no events\n"} : t.render()) + footer;
}

} // namespace busctl
