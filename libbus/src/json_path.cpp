#include "bus/json_path.hpp"

#include <boost/json/value.hpp>

namespace bus {

json_path::json_path(std::string_view dotted) {
  std::size_t start = 0;
  while (true) {
    auto dot = dotted.find('.', start);
    auto segment = dotted.substr(
      start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (segment.empty()) {
      segments_.clear();
      return;
    }
    segments_.emplace_back(segment);
    if (dot == std::string_view::npos)
      return;
    start = dot + 1;
  }
}

const boost::json::value* json_path::find(const boost::json::object& root) const {
  const boost::json::object* obj = &root;
  const boost::json::value* v = nullptr;
  for (auto& segment : segments_) {
    if (obj == nullptr)
      return nullptr;
    auto i = obj->find(segment);
    if (i == obj->end())
      return nullptr;
    v = &i->value();
    obj = v->if_object();
  }
  return v;
}

std::optional<std::string_view> json_path::find_key(const boost::json::object& root,
                                                    std::string& buffer) const {
  auto* v = find(root);
  if (v == nullptr)
    return std::nullopt;
  if (auto* s = v->if_string())
    return std::string_view{s->data(), s->size()};
  if (auto* i = v->if_int64())
    buffer = std::to_string(*i);
  else if (auto* u = v->if_uint64())
    buffer = std::to_string(*u);
  else
    return std::nullopt;
  return std::string_view{buffer};
}

std::optional<std::string> json_path::find_key(const boost::json::object& root) const {
  std::string buffer;
  if (auto key = find_key(root, buffer))
    return std::string{*key};
  return std::nullopt;
}

std::optional<std::string_view> json_path::find_key(const event_payload& payload,
                                                    std::string& buffer) const {
  if (segments_.size() != 1)
    return find_key(payload.object(), buffer);
  auto f = payload.field(segments_.front());
  switch (f.kind()) {
    case field_kind::string:
      return f.as_string();
    case field_kind::int64:
      buffer = std::to_string(f.as_int64());
      return std::string_view{buffer};
    case field_kind::uint64:
      buffer = std::to_string(f.as_uint64());
      return std::string_view{buffer};
    default:
      return std::nullopt;
  }
}

std::optional<std::string> json_path::find_key(const event_payload& payload) const {
  std::string buffer;
  if (auto key = find_key(payload, buffer))
    return std::string{*key};
  return std::nullopt;
}

} // namespace bus
