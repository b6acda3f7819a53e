#include "bus/event_stream.hpp"

namespace bus {

std::optional<stream_position> stream_of(const event& e) {
  auto* stream = e.metadata.if_contains(stream_key);
  auto* version = e.metadata.if_contains(stream_version_key);
  if (stream == nullptr || version == nullptr || !stream->is_string()
      || stream->get_string().empty())
    return std::nullopt;
  stream_position pos;
  pos.stream = stream->get_string();
  if (version->is_uint64())
    pos.version = version->get_uint64();
  else if (version->is_int64() && version->get_int64() > 0)
    pos.version = static_cast<std::uint64_t>(version->get_int64());
  if (pos.version == 0)
    return std::nullopt;
  if (auto* type = e.metadata.if_contains(aggregate_key); type && type->is_string())
    pos.aggregate = type->get_string();
  return pos;
}

void stamp_stream(event& e, std::string_view stream, std::uint64_t version,
                  std::string_view aggregate) {
  e.id = stream_event_id(stream, version);
  e.id_derived = false;
  e.metadata[stream_key] = stream;
  e.metadata[stream_version_key] = version;
  e.metadata[aggregate_key] = aggregate;
}

std::string stream_event_id(std::string_view stream, std::uint64_t version) {
  std::string id{stream};
  id += '@';
  id += std::to_string(version);
  return id;
}

} // namespace bus
