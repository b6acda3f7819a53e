#include "bus/admin/bodies.hpp"

#include "bus/admin/json_style.hpp"
#include "bus/admin/status_render.hpp"

namespace bus::admin {

const char* to_string(node_kind x) noexcept {
  return x == node_kind::bus ? "bus" : "projector";
}

std::string render_status(node_kind node, const actors::bus_status& bus,
                          const std::vector<actors::projector_status>& models,
                          const std::optional<leadership>& lead) {
  std::string out = "{\"node\": ";
  render_string(out, to_string(node));
  if (node == node_kind::bus) {
    out += ", \"store\": ";
    render_string(out, to_string(bus.store_state));
    if (bus.store_state != store_state::healthy) {
      out += ", \"store_error\": ";
      render_string(out, bus.store_error);
    }
  }
  if (lead) {
    out += ", \"lease\": {\"state\": ";
    render_string(out, to_string(lead->state));
    out += ", \"name\": ";
    render_string(out, lead->lease);
    out += ", \"holder\": ";
    render_string(out, lead->holder);
    out += ", \"token\": " + std::to_string(lead->token);
    out += ", \"ttl_ms\": " + std::to_string(lead->ttl.count());
    out += ", \"why\": ";
    render_string(out, lead->why);
    out += '}';
  }
  out += ", ";
  render_status_fields(out, bus, models);
  out += '}';
  return out;
}

std::string render_event(const event& e) {
  std::string out = "{\"seq\": " + std::to_string(e.seq);
  out += ", \"type\": ";
  render_string(out, e.type);
  out += ", \"id\": ";
  render_string(out, e.id);
  out += ", \"timestamp_ms\": " + std::to_string(e.timestamp / 1000000);
  out += ", \"schema_version\": " + std::to_string(e.schema_version);
  out += ", \"payload\": ";
  render_json(out, e.payload.object());
  if (!e.metadata.empty()) {
    out += ", \"metadata\": ";
    render_json(out, e.metadata);
  }
  out += '}';
  return out;
}

namespace {

// What surrounds the list: {"from": N, "head": N, "next": N, "events": [
// and ]}, each N at most 20 digits.
constexpr std::size_t frame_bytes = 104;

} // namespace

bool events_page::add(const event& e) {
  if (full_)
    return false;
  auto one = render_event(e);
  auto separator = list_.empty() ? std::size_t{0} : std::size_t{2};
  if (!list_.empty()
      && frame_bytes + list_.size() + separator + one.size() > max_events_page_bytes) {
    full_ = true; // the rest is the next page's
    return false;
  }
  list_ += list_.empty() ? "" : ", ";
  list_ += one;
  next_ = e.seq + 1;
  ++size_;
  return true;
}

std::size_t events_page::room_for() const noexcept {
  if (size_ == 0)
    return 1;
  auto used = frame_bytes + list_.size();
  auto left = used < max_events_page_bytes ? max_events_page_bytes - used : 0;
  auto average = list_.size() / size_ + 2;
  return left / average + 1;
}

std::string events_page::render(std::uint64_t head) const {
  std::string out = "{\"from\": " + std::to_string(from_);
  out += ", \"head\": " + std::to_string(head);
  out += ", \"next\": " + std::to_string(next_);
  out += ", \"events\": [";
  out += list_;
  out += "]}";
  return out;
}

std::string render_events(std::uint64_t from, std::uint64_t head,
                          const event_batch& events) {
  // The events first: `next` follows the last one that fits the byte cap.
  events_page page{from};
  for (auto& e : events)
    if (!page.add(e))
      break;
  return page.render(head);
}

std::string render_parked(const actors::parked_list& xs, bool with_done) {
  std::string out = "{\"model\": ";
  render_string(out, xs.model);
  if (with_done)
    out += ", \"done\": " + std::to_string(xs.done);
  out += ", \"parked\": [";
  bool first = true;
  if (auto* entries = xs.entries.if_array()) {
    for (auto& entry : *entries) {
      if (!first)
        out += ", ";
      first = false;
      // The entry as the protocol's parked_ok has it, led by its seq.
      auto* obj = entry.if_object();
      auto* ev = obj ? obj->if_contains("event") : nullptr;
      auto* seq = ev && ev->is_object() ? ev->get_object().if_contains("seq") : nullptr;
      if (obj == nullptr || seq == nullptr) {
        render_json(out, entry);
        continue;
      }
      out += "{\"seq\": ";
      render_json(out, *seq);
      for (auto& kv : *obj) {
        out += ", ";
        render_key(out, std::string_view{kv.key().data(), kv.key().size()});
        render_json(out, kv.value());
      }
      out += '}';
    }
  }
  out += "]}";
  return out;
}

std::string render_lifecycle(const actors::projector_status& s) {
  std::string out = "{\"model\": ";
  render_string(out, s.model);
  out += ", \"state\": ";
  render_string(out, to_string(s.state));
  out += '}';
  return out;
}

} // namespace bus::admin
