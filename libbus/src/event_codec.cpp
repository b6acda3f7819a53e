#include "bus/event_codec.hpp"

#include <cmath>

#include "bus/errc.hpp"
#include "internal/event_record.hpp"
#include "internal/json_numbers.hpp"

namespace bus {

boost::json::object to_json(const event& e) {
  boost::json::object obj;
  if (!e.id.empty())
    obj["id"] = e.id;
  obj["type"] = e.type;
  obj["payload"] = e.payload;
  obj["seq"] = e.seq;
  obj["timestamp"] = e.timestamp;
  obj["schema_version"] = e.schema_version;
  if (!e.metadata.empty())
    obj["metadata"] = e.metadata;
  return obj;
}

namespace {

bool not_finite(double x) noexcept {
  return !std::isfinite(x);
}

} // namespace

bool finite_json(const boost::json::value& v) noexcept {
  return !internal::any_double(v, not_finite);
}

bool finite_event(const event& e) {
  // A payload still in its record is walked there: not decoded for this.
  // One whose writer saw every number is not walked at all.
  auto bytes = e.payload.encoded_bytes();
  auto payload = e.payload.numbers() == payload_numbers::finite
                 || (bytes.empty()
                       ? !internal::any_double(e.payload.object(), not_finite)
                       : internal::finite_object(bytes));
  return payload && !internal::any_double(e.metadata, not_finite);
}

namespace {

caf::error bad(const char* field, const char* expected) {
  return make_error(errc::invalid_event,
                    std::string{"event."} + field + ": expected " + expected);
}

} // namespace

caf::expected<event> event_from_json(const boost::json::value& v) {
  auto* obj = v.if_object();
  if (obj == nullptr)
    return make_error(errc::invalid_event, "event: expected an object");
  event e;
  auto* type = obj->if_contains("type");
  if (type == nullptr || !type->is_string() || type->get_string().empty())
    return bad("type", "a non-empty string");
  e.type = type->get_string();
  auto* payload = obj->if_contains("payload");
  if (payload == nullptr || !payload->is_object())
    return bad("payload", "an object");
  if (!finite_json(*payload))
    return bad("payload", "finite numbers");
  e.payload = payload->get_object();
  if (auto* id = obj->if_contains("id")) {
    if (!id->is_string() || id->get_string().empty())
      return bad("id", "a non-empty string");
    e.id = id->get_string();
  }
  if (auto* seq = obj->if_contains("seq")) {
    boost::system::error_code ec;
    e.seq = seq->to_number<std::uint64_t>(ec);
    if (ec || seq->is_double())
      return bad("seq", "a non-negative integer");
  }
  if (auto* ts = obj->if_contains("timestamp")) {
    boost::system::error_code ec;
    e.timestamp = ts->to_number<std::int64_t>(ec);
    if (ec || ts->is_double())
      return bad("timestamp", "an integer");
  }
  if (auto* sv = obj->if_contains("schema_version")) {
    boost::system::error_code ec;
    e.schema_version = sv->to_number<std::uint32_t>(ec);
    if (ec || sv->is_double())
      return bad("schema_version", "a non-negative integer");
  }
  if (auto* md = obj->if_contains("metadata")) {
    if (!md->is_object())
      return bad("metadata", "an object");
    if (!finite_json(*md))
      return bad("metadata", "finite numbers");
    e.metadata = md->get_object();
  }
  return e;
}

} // namespace bus
