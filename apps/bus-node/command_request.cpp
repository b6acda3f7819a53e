#include "command_request.hpp"

#include "bus/event_codec.hpp"

namespace bus::node {

void parse_command(boost::json::object& body, request& req) {
  auto* name = body.if_contains("command");
  if (name == nullptr || !name->is_string() || name->get_string().empty())
    return malformed(req, "body.command must be a non-empty string");
  auto* stream = body.if_contains("stream");
  if (stream == nullptr || !stream->is_string() || stream->get_string().empty()
      || stream->get_string().size() > max_stream_size)
    return malformed(req, "body.stream must be a non-empty string of at most "
                            + std::to_string(max_stream_size) + " bytes");
  auto* expected = body.if_contains("expected_version");
  std::uint64_t version = 0;
  if (expected != nullptr && expected->is_uint64())
    version = expected->get_uint64();
  else if (expected != nullptr && expected->is_int64() && expected->get_int64() >= 0)
    version = static_cast<std::uint64_t>(expected->get_int64());
  else
    return malformed(req, "body.expected_version must be a non-negative integer (0 "
                          "for a new stream)");
  auto cmd = std::make_unique<bus::command>();
  if (auto* data = body.if_contains("data")) {
    if (!data->is_object())
      return malformed(req, "body.data must be an object");
    if (!finite_json(*data))
      return malformed(req, "body.data holds a number out of range (over 1.8e308)");
    cmd->data = data->get_object();
  }
  cmd->name = name->get_string();
  cmd->stream = stream->get_string();
  cmd->expected_version = version;
  req.cmd = std::move(cmd);
  req.kind = request_kind::command;
}

} // namespace bus::node
