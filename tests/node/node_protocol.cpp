#include "node_protocol.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

namespace bus::node::test {

namespace {

std::string quoted(std::string_view s) {
  return boost::json::serialize(boost::json::string_view{s.data(), s.size()});
}

} // namespace

std::string request(std::string_view body) {
  std::string line = "{\"src\": " + quoted(client_name)
                     + ", \"dest\": " + quoted(node_name) + ", \"body\": ";
  line += body;
  line += "}\n";
  return line;
}

std::string event(long long msg_id, std::string_view type, std::string_view payload,
                  std::string_view id) {
  std::string body = "{\"type\": \"event\", \"msg_id\": " + std::to_string(msg_id)
                     + ", \"event\": {\"type\": " + quoted(type);
  if (!id.empty())
    body += ", \"id\": " + quoted(id);
  body += ", \"payload\": ";
  body += payload;
  body += "}}";
  return request(body);
}

std::string query(long long msg_id, std::string_view model, std::string_view key) {
  return request("{\"type\": \"query\", \"msg_id\": " + std::to_string(msg_id)
                 + ", \"model\": " + quoted(model) + ", \"key\": " + quoted(key) + "}");
}

std::string subscribe(long long msg_id, const std::vector<std::string>& event_types,
                      std::string_view type) {
  std::string types = "[";
  for (auto& t : event_types) {
    if (types.size() > 1)
      types += ", ";
    types += quoted(t);
  }
  types += "]";
  return request("{\"type\": " + quoted(type) + ", \"msg_id\": "
                 + std::to_string(msg_id) + ", \"event_types\": " + types + "}");
}

std::string init(long long msg_id) {
  return request("{\"type\": \"init\", \"msg_id\": " + std::to_string(msg_id)
                 + ", \"node_id\": \"n1\", \"node_ids\": [\"n1\"]}");
}

std::string reply::body_text() const {
  auto start = line.find("\"body\": ");
  if (start == std::string::npos || line.empty() || line.back() != '}')
    return "<no body in: " + line + ">";
  start += 8;
  return line.substr(start, line.size() - 1 - start);
}

std::string reply::text(std::string_view name) const {
  auto* v = body.if_contains(name);
  if (v == nullptr)
    return "<missing>";
  if (auto* s = v->if_string())
    return std::string{s->data(), s->size()};
  return boost::json::serialize(*v);
}

std::string reply::json(std::string_view name) const {
  auto* v = body.if_contains(name);
  return v == nullptr ? "<missing>" : boost::json::serialize(*v);
}

long long reply::in_reply_to() const {
  auto* v = body.if_contains("in_reply_to");
  BOOST_REQUIRE_MESSAGE(v != nullptr && v->is_int64(),
                        "in_reply_to is not an integer in: " << line);
  return v->get_int64();
}

reply parse_reply(const std::string& line) {
  boost::system::error_code ec;
  auto value = boost::json::parse(line, ec);
  BOOST_REQUIRE_MESSAGE(!ec && value.is_object(),
                        "stdout line is not a JSON object: " << line);
  auto& envelope = value.get_object();
  auto* body = envelope.if_contains("body");
  BOOST_REQUIRE_MESSAGE(body != nullptr && body->is_object(),
                        "reply has no body object: " << line);
  return reply{line, envelope, body->get_object()};
}

std::vector<reply> replies_of(const process_result& result) {
  std::vector<reply> replies;
  for (auto& line : result.out_lines())
    replies.push_back(parse_reply(line));
  return replies;
}

std::vector<reply> replies_to(std::string_view input,
                              const std::vector<std::string>& args) {
  auto result = run_node(input, args);
  BOOST_REQUIRE_MESSAGE(result.exit_code == 0, "bus-node exited with "
                                                 << result.exit_code << " (signal "
                                                 << result.term_signal
                                                 << "); stderr: " << result.err);
  return replies_of(result);
}

} // namespace bus::node::test
