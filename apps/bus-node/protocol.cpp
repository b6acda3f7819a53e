#include "protocol.hpp"

#include <charconv>
#include <cstring>

#include <boost/json/serialize.hpp>

#include "bus/config.hpp"
#include "bus/errc.hpp"
#include "bus/event_codec.hpp"
#include "bus/event_id.hpp"
#include "bus/partitions.hpp"
#include "command_request.hpp"

namespace bus::node {

void malformed(request& req, std::string text) {
  req.kind = request_kind::error;
  req.code = error_code::malformed_request;
  req.text = std::move(text);
}

namespace {

bool read_strings(const boost::json::value* v, std::vector<std::string>& out) {
  auto* arr = v ? v->if_array() : nullptr;
  if (arr == nullptr)
    return false;
  out.reserve(arr->size());
  for (auto& x : *arr) {
    auto* s = x.if_string();
    if (s == nullptr)
      return false;
    out.emplace_back(s->data(), s->size());
  }
  return true;
}

const boost::json::string* string_field(const boost::json::object& obj,
                                        std::string_view name) {
  auto* v = obj.if_contains(name);
  return v ? v->if_string() : nullptr;
}

// A rebuild with "mode": "blue_green", a "definition" (a read_models entry
// of the configuration, "name" optional) and an optional "await".
void parse_blue_green(boost::json::object& body, request& req) {
  auto* mode = string_field(body, "mode");
  if (mode == nullptr || (*mode != "blue_green" && *mode != "in_place"))
    return malformed(req, "body.mode must be \"in_place\" or \"blue_green\"");
  if (*mode == "in_place") {
    if (body.contains("definition"))
      return malformed(req, "body.definition needs \"mode\": \"blue_green\"");
    req.kind = request_kind::rebuild;
    return;
  }
  auto* definition = body.if_contains("definition");
  if (definition == nullptr || !definition->is_object())
    return malformed(req, "body.definition must be an object");
  if (auto part = split_partition_name(req.model)) {
    // Refused as the supervisor refuses a partitioned model's, not as a
    // definition named wrong: the name was the model's.
    req.kind = request_kind::error;
    req.code = error_code::precondition_failed;
    req.text = "read model '" + std::string{part->model}
               + "': a blue/green rebuild of a partitioned model or of one of its"
                 " partitions is not supported; rebuild it in place";
    return;
  }
  auto& def = definition->get_object();
  if (auto* name = def.if_contains("name")) {
    if (!name->is_string() || name->get_string() != req.model)
      return malformed(req, "body.definition.name must be the model's name, \""
                              + req.model + "\"");
  } else {
    def["name"] = req.model;
  }
  auto spec = parse_model_definition(*definition, "body.definition");
  if (!spec)
    return malformed(req, context_of(spec.error()));
  if (auto* await = body.if_contains("await")) {
    if (!await->is_bool())
      return malformed(req, "body.await must be true or false");
    req.await_switch = await->get_bool();
  }
  req.definition = std::make_unique<model_spec>(std::move(*spec));
  req.kind = request_kind::blue_green;
}

// {"type": "await", "seq": N, "model": M (optional), "timeout_ms": T
// (optional)}.
void parse_await(const boost::json::object& body, request& req) {
  auto* seq = body.if_contains("seq");
  if (seq != nullptr && seq->is_uint64())
    req.seq = seq->get_uint64();
  else if (seq != nullptr && seq->is_int64() && seq->get_int64() >= 0)
    req.seq = static_cast<std::uint64_t>(seq->get_int64());
  else
    return malformed(req, "body.seq must be a non-negative integer");
  if (auto* model = body.if_contains("model")) {
    if (!model->is_string() || model->get_string().empty())
      return malformed(req, "body.model must be a non-empty string (omit it for all)");
    req.model = model->get_string();
  }
  req.timeout_ms = default_await_timeout_ms;
  if (auto* timeout = body.if_contains("timeout_ms")) {
    std::uint64_t ms = 0;
    if (timeout->is_uint64())
      ms = timeout->get_uint64();
    else if (timeout->is_int64() && timeout->get_int64() > 0)
      ms = static_cast<std::uint64_t>(timeout->get_int64());
    if (ms == 0 || ms > max_await_timeout_ms)
      return malformed(req, "body.timeout_ms must be an integer from 1 to "
                              + std::to_string(max_await_timeout_ms));
    req.timeout_ms = ms;
  }
  req.kind = request_kind::await_applied;
}

} // namespace

void parse_request(boost::json::object& line, request& req) {
  if (auto* s = string_field(line, "src"))
    req.src = *s;
  if (auto* d = string_field(line, "dest"))
    req.dest = *d;
  auto* body_value = line.if_contains("body");
  auto* body = body_value ? body_value->if_object() : nullptr;
  if (body == nullptr)
    return malformed(req, "missing body object");
  // Only a usable msg_id is echoed: in_reply_to is null otherwise.
  if (auto* id = body->if_contains("msg_id");
      id != nullptr && (id->is_int64() || id->is_uint64() || id->is_string()))
    req.msg_id = *id;
  if (!line.contains("src") || !line.contains("dest") || !line.at("src").is_string()
      || !line.at("dest").is_string())
    return malformed(req, "src and dest must be strings");
  if (auto* id = body->if_contains("msg_id");
      id == nullptr || !(id->is_int64() || id->is_uint64() || id->is_string()))
    return malformed(req, "body.msg_id must be an integer or a string");
  auto* type = string_field(*body, "type");
  if (type == nullptr)
    return malformed(req, "body.type must be a string");
  if (*type == "event") {
    auto* ev_value = body->if_contains("event");
    auto* ev = ev_value ? ev_value->if_object() : nullptr;
    if (ev == nullptr)
      return malformed(req, "body.event must be an object");
    auto* ev_type = string_field(*ev, "type");
    if (ev_type == nullptr || ev_type->empty())
      return malformed(req, "event.type must be a non-empty string");
    auto* payload = ev->if_contains("payload");
    if (payload == nullptr || !payload->is_object())
      return malformed(req, "event.payload must be an object");
    if (!finite_json(*payload))
      return malformed(req, "event.payload holds a number out of range (over 1.8e308)");
    // Optional: the payload's schema version (1 when absent, see
    // docs/versioning.md) and free-form metadata, kept in the log.
    if (auto* version = ev->if_contains("schema_version")) {
      boost::system::error_code ec;
      auto x = version->is_double() ? 0 : version->to_number<std::uint32_t>(ec);
      if (ec || x == 0)
        return malformed(
          req, "event.schema_version must be an integer from 1 to 4294967295");
      req.ev.schema_version = x;
    }
    if (auto* metadata = ev->if_contains("metadata")) {
      if (!metadata->is_object())
        return malformed(req, "event.metadata must be an object");
      if (!finite_json(*metadata))
        return malformed(req,
                         "event.metadata holds a number out of range (over 1.8e308)");
      req.ev.metadata = metadata->get_object();
    }
    req.kind = request_kind::event;
    req.ev.type = *ev_type;
    req.ev.payload = payload->get_object(); // a copy in req's payload storage
    if (auto* id = ev->if_contains("id")) {
      auto* s = id->if_string();
      if (s == nullptr || s->empty())
        return malformed(req, "event.id must be a non-empty string");
      req.ev.id = *s;
    } else if (auto derived = derive_event_id(req.ev.payload)) {
      req.ev.id = std::move(*derived);
      req.ev.id_derived = true;
    } else {
      return malformed(req, "event has no id and no payload.id to derive one");
    }
    return;
  }
  if (*type == "subscribe" || *type == "unsubscribe") {
    if (!read_strings(body->if_contains("event_types"), req.event_types))
      return malformed(req, "body.event_types must be an array of strings");
    req.kind = *type == "subscribe" ? request_kind::subscribe
                                    : request_kind::unsubscribe;
    return;
  }
  if (*type == "query") {
    auto* model = string_field(*body, "model");
    auto* key_value = body->if_contains("key");
    if (model == nullptr)
      return malformed(req, "body.model must be a string");
    if (key_value != nullptr && key_value->is_string())
      req.key = key_value->get_string();
    else if (key_value != nullptr && (key_value->is_int64() || key_value->is_uint64()))
      req.key = boost::json::serialize(*key_value);
    else
      return malformed(req, "body.key must be a string or an integer");
    req.model = *model;
    req.kind = request_kind::query;
    return;
  }
  if (*type == "status") {
    req.kind = request_kind::status;
    return;
  }
  if (*type == "pause" || *type == "resume" || *type == "rebuild" || *type == "rollback"
      || *type == "discard" || *type == "restart") {
    auto* model = string_field(*body, "model");
    if (model == nullptr)
      return malformed(req, "body.model must be a string");
    req.model = *model;
    if (*type == "rollback" || *type == "discard" || *type == "restart") {
      req.kind = *type == "rollback"  ? request_kind::rollback
                 : *type == "discard" ? request_kind::discard
                                      : request_kind::restart;
      return;
    }
    if (*type == "rebuild" && (body->contains("mode") || body->contains("definition")))
      return parse_blue_green(*body, req);
    req.kind = *type == "pause"    ? request_kind::pause
               : *type == "resume" ? request_kind::resume
                                   : request_kind::rebuild;
    return;
  }
  if (*type == "parked" || *type == "retry_parked" || *type == "discard_parked") {
    auto* model = string_field(*body, "model");
    if (model == nullptr)
      return malformed(req, "body.model must be a string");
    req.model = *model;
    if (auto* seq = body->if_contains("seq")) {
      if (*type == "parked")
        return malformed(req, "body.seq is not taken by parked (it lists them all)");
      if (seq->is_uint64())
        req.seq = seq->get_uint64();
      else if (seq->is_int64() && seq->get_int64() > 0)
        req.seq = static_cast<std::uint64_t>(seq->get_int64());
      else
        return malformed(req, "body.seq must be a positive integer (omit it for all)");
    }
    req.kind = *type == "parked"         ? request_kind::parked
               : *type == "retry_parked" ? request_kind::retry_parked
                                         : request_kind::discard_parked;
    return;
  }
  if (*type == "await")
    return parse_await(*body, req);
  if (*type == "command")
    return parse_command(*body, req);
  if (*type == "init") {
    auto* node_id = string_field(*body, "node_id");
    if (node_id == nullptr)
      return malformed(req, "body.node_id must be a string");
    std::vector<std::string> ids;
    if (!read_strings(body->if_contains("node_ids"), ids))
      return malformed(req, "body.node_ids must be an array of strings");
    req.node_id = *node_id;
    req.kind = request_kind::init;
    return;
  }
  req.kind = request_kind::error;
  req.code = error_code::not_supported;
  req.text = "unknown message type '" + std::string{*type} + "'";
}

void render_field(std::string& out, std::string_view name, std::string_view value) {
  if (!out.empty())
    out += ", ";
  render_key(out, name);
  render_string(out, value);
}

void render_strings(std::string& out, const std::vector<std::string>& xs) {
  out += '[';
  for (std::size_t i = 0; i < xs.size(); ++i) {
    if (i > 0)
      out += ", ";
    render_string(out, xs[i]);
  }
  out += ']';
}

void begin_reply(std::string& out, const request& req, std::string_view type) {
  out += "{\"src\": ";
  render_string(out, req.dest);
  out += ", \"dest\": ";
  render_string(out, req.src);
  out += ", \"body\": {\"type\": ";
  render_string(out, type);
  out += ", \"in_reply_to\": ";
  render_json(out, req.msg_id);
}

namespace {

char* put(char* p, std::string_view s) noexcept {
  // An empty view may have no data at all: memcpy from null is undefined
  // even for no bytes (UBSan).
  if (!s.empty())
    std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

} // namespace

void render_event_reply(std::string& out, const request& req, std::string_view id,
                        bool skipped, std::string_view updated_models) {
  std::string_view type = skipped ? "event_skipped" : "read_models_updated";
  if (!req.msg_id.is_int64() && !req.msg_id.is_uint64()) {
    // A string msg_id: rare, rendered piece by piece.
    begin_reply(out, req, type);
    out += ", \"event_id\": ";
    render_string(out, id);
    if (skipped) {
      out += ", \"reason\": \"already_processed\"";
    } else {
      out += ", \"updated_models\": [";
      out += updated_models;
      out += ']';
    }
    end_reply(out);
    return;
  }
  // One reply per event: written in place, after one resize to the most it
  // can take (replies are the node's hottest output).
  auto old = out.size();
  out.resize(old + max_string_size(req.dest) + max_string_size(req.src)
             + max_string_size(id) + updated_models.size() + 160);
  auto* p = out.data() + old;
  p = put(p, "{\"src\": ");
  p = write_string(p, req.dest);
  p = put(p, ", \"dest\": ");
  p = write_string(p, req.src);
  p = put(p, ", \"body\": {\"type\": \"");
  p = put(p, type);
  p = put(p, "\", \"in_reply_to\": ");
  p = req.msg_id.is_int64() ? std::to_chars(p, p + 20, req.msg_id.get_int64()).ptr
                            : std::to_chars(p, p + 20, req.msg_id.get_uint64()).ptr;
  p = put(p, ", \"event_id\": ");
  p = write_string(p, id);
  if (skipped) {
    p = put(p, ", \"reason\": \"already_processed\"}}\n");
  } else {
    p = put(p, ", \"updated_models\": [");
    p = put(p, updated_models);
    p = put(p, "]}}\n");
  }
  out.resize(static_cast<std::size_t>(p - out.data()));
}

void render_reply(std::string& out, const request& req, std::string_view type,
                  std::string_view body_fields) {
  begin_reply(out, req, type);
  if (!body_fields.empty()) {
    out += ", ";
    out += body_fields;
  }
  end_reply(out);
}

void render_error(std::string& out, const request& req, error_code code,
                  std::string_view text) {
  std::string fields;
  render_key(fields, "code");
  fields += std::to_string(static_cast<int>(code));
  fields += ", ";
  render_key(fields, "text");
  render_string(fields, text);
  render_reply(out, req, "error", fields);
}

} // namespace bus::node
