#include "commands.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "render.hpp"
#include "table.hpp"

namespace busctl {

namespace json = boost::json;

namespace {

// Turns an answer into its JSON object, or throws `refused` with the
// API's message ({"error": {"code", "message"}}) or what went wrong.
json::object checked(const http_reply& reply) {
  boost::system::error_code ec;
  auto value = json::parse(reply.body, ec);
  auto* obj = ec ? nullptr : value.if_object();
  auto status = std::to_string(reply.status);
  if (reply.status >= 200 && reply.status < 300) {
    if (obj == nullptr)
      throw refused("the node answered HTTP " + status
                      + " with a body that is not a JSON object",
                    reply.status, reply.body);
    return std::move(*obj);
  }
  if (obj != nullptr)
    if (auto e = obj->find("error"); e != obj->end() && e->value().is_object()) {
      auto& err = e->value().get_object();
      throw refused(printable(string_of(err, "message")) + " (HTTP " + status + " "
                      + string_of(err, "code") + ")",
                    reply.status, reply.body);
    }
  throw refused("the node answered HTTP " + status, reply.status, reply.body);
}

void print_json(const context& ctx, const json::object& obj) {
  ctx.out << json::serialize(obj) << "\n";
}

} // namespace

json::object get_json(const context& ctx, const std::string& target) {
  return checked(ctx.client.get(target));
}

json::object post_json(const context& ctx, const std::string& target) {
  return checked(ctx.client.post(target));
}

std::string model_path(const std::string& model, const std::string& suffix) {
  return "/models/" + url_encode(model) + suffix;
}

exit_code run_status(const context& ctx) {
  auto status = get_json(ctx, "/status");
  if (ctx.json)
    print_json(ctx, status);
  else
    ctx.out << render_status(status);
  return exit_code::ok;
}

exit_code run_lag(const context& ctx) {
  auto status = get_json(ctx, "/status");
  if (ctx.json)
    print_json(ctx, status);
  else
    ctx.out << render_lag(status);
  return exit_code::ok;
}

exit_code run_health(const context& ctx) {
  // 503 is the answer "unhealthy", not a failed request: it has the same body.
  auto reply = ctx.client.get("/health");
  if (reply.status == 503) {
    boost::system::error_code ec;
    auto value = json::parse(reply.body, ec);
    if (!ec && value.is_object() && value.get_object().contains("healthy"))
      reply.status = 200;
  }
  auto health = checked(reply);
  if (ctx.json)
    print_json(ctx, health);
  else
    ctx.out << render_health(health);
  auto i = health.find("healthy");
  bool healthy = i != health.end() && i->value().is_bool() && i->value().get_bool();
  return healthy ? exit_code::ok : exit_code::unhealthy;
}

exit_code run_steer(const context& ctx, const std::string& model,
                    const std::string& action) {
  auto reply = post_json(ctx, model_path(model, "/" + action));
  if (ctx.json)
    print_json(ctx, reply);
  else
    ctx.out << render_steered(reply);
  return exit_code::ok;
}

exit_code run_parked(const context& ctx, const std::string& model) {
  auto reply = get_json(ctx, model_path(model, "/parked"));
  if (ctx.json)
    print_json(ctx, reply);
  else
    ctx.out << render_parked(reply);
  return exit_code::ok;
}

exit_code run_unpark(const context& ctx, const std::string& model,
                     const std::string& action, std::optional<std::int64_t> seq) {
  auto target = model_path(model, "/parked/" + action);
  if (seq)
    target += "?seq=" + std::to_string(*seq);
  auto reply = post_json(ctx, target);
  if (ctx.json)
    print_json(ctx, reply);
  else
    ctx.out << render_unparked(reply, action == "retry" ? "retried" : "discarded");
  return exit_code::ok;
}

exit_code run_events(const context& ctx, std::int64_t from, std::int64_t limit,
                     bool full) {
  auto page = get_json(ctx, "/events?from=" + std::to_string(from)
                              + "&limit=" + std::to_string(limit));
  if (ctx.json)
    print_json(ctx, page);
  else
    ctx.out << render_events(page, full ? std::string::npos : 80);
  return exit_code::ok;
}

} // namespace busctl
