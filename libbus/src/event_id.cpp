#include "bus/event_id.hpp"

#include <algorithm>
#include <cstdio>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "bus/event_payload.hpp"

namespace bus {

namespace {

// "evt-" and what follows the last '-' of `id`.
std::optional<std::string> derived_from(std::string id) {
  if (id.empty())
    return std::nullopt;
  auto dash = id.rfind('-');
  auto tail = dash == std::string::npos ? id : id.substr(dash + 1);
  if (tail.empty())
    return std::nullopt;
  return "evt-" + tail;
}

} // namespace

std::optional<std::string> derive_event_id(const boost::json::object& payload) {
  auto i = payload.find("id");
  if (i == payload.end())
    return std::nullopt;
  if (auto* str = i->value().if_string())
    return derived_from(std::string{str->data(), str->size()});
  if (i->value().is_int64() || i->value().is_uint64())
    return derived_from(boost::json::serialize(i->value()));
  return std::nullopt;
}

std::optional<std::string> derive_event_id(const event_payload& payload) {
  auto id = payload.field("id");
  switch (id.kind()) {
    case field_kind::string:
      return derived_from(std::string{id.as_string()});
    case field_kind::int64:
      return derived_from(std::to_string(id.as_int64()));
    case field_kind::uint64:
      return derived_from(std::to_string(id.as_uint64()));
    default:
      return std::nullopt;
  }
}

namespace {

constexpr std::uint64_t fnv_offset = 14695981039346656037ull;
constexpr std::uint64_t fnv_prime = 1099511628211ull;

void mix(std::uint64_t& h, std::string_view bytes) {
  for (char c : bytes) {
    h ^= static_cast<unsigned char>(c); // the byte, not a sign-extended char
    h *= fnv_prime;
  }
}

void mix(std::uint64_t& h, char tag) {
  mix(h, std::string_view{&tag, 1});
}

// Hashes a canonical form: object keys sorted, every value tagged by kind,
// strings length-prefixed, so that distinct values cannot hash as equal
// token streams.
void mix(std::uint64_t& h, const boost::json::object& obj);

void mix(std::uint64_t& h, const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null:
      mix(h, 'n');
      break;
    case boost::json::kind::bool_:
      mix(h, v.get_bool() ? 't' : 'f');
      break;
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
    case boost::json::kind::double_:
      mix(h, '#');
      mix(h, boost::json::serialize(v));
      mix(h, ';');
      break;
    case boost::json::kind::string: {
      auto& s = v.get_string();
      mix(h, '"');
      mix(h, std::to_string(s.size()));
      mix(h, ':');
      mix(h, std::string_view{s.data(), s.size()});
      break;
    }
    case boost::json::kind::array:
      mix(h, '[');
      for (auto& x : v.get_array())
        mix(h, x);
      mix(h, ']');
      break;
    case boost::json::kind::object:
      mix(h, v.get_object());
      break;
  }
}

void mix(std::uint64_t& h, const boost::json::object& obj) {
  std::vector<const boost::json::key_value_pair*> fields;
  fields.reserve(obj.size());
  for (auto& kv : obj)
    fields.push_back(&kv);
  std::sort(fields.begin(), fields.end(),
            [](auto* x, auto* y) { return x->key() < y->key(); });
  mix(h, '{');
  for (auto* kv : fields) {
    mix(h, std::to_string(kv->key().size()));
    mix(h, ':');
    mix(h, std::string_view{kv->key().data(), kv->key().size()});
    mix(h, kv->value());
  }
  mix(h, '}');
}

} // namespace

std::uint64_t content_fingerprint(std::string_view type,
                                  const boost::json::object& payload) {
  auto h = fnv_offset;
  mix(h, std::to_string(type.size()));
  mix(h, ':');
  mix(h, type);
  mix(h, payload);
  return h;
}

std::string alternate_event_id(std::string_view base, std::uint64_t fingerprint,
                               unsigned attempt) {
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx",
                static_cast<unsigned long long>(fingerprint));
  std::string id{base};
  id += '-';
  id += hex;
  if (attempt > 1) {
    id += '-';
    id += std::to_string(attempt);
  }
  return id;
}

} // namespace bus
