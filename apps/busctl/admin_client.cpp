#include "admin_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <optional>

namespace busctl {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// A page of 1,000 events is well below this; anything bigger is not ours.
constexpr std::uint64_t max_body_bytes = 64u << 20;

} // namespace

admin_client::admin_client(bus::endpoint at, std::chrono::milliseconds timeout)
  : at_(std::move(at)), timeout_(timeout) {
  // nop
}

std::string admin_client::address() const {
  return at_.host + ":" + std::to_string(at_.port);
}

http_reply admin_client::get(const std::string& target) const {
  return request(false, target);
}

http_reply admin_client::post(const std::string& target) const {
  return request(true, target);
}

http_reply admin_client::request(bool post, const std::string& target) const {
  // Asynchronous operations run for at most the timeout: Beast's blocking
  // calls have no deadline.
  net::io_context ioc;
  tcp::resolver resolver{ioc};
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
  http::request<http::empty_body> req{post ? http::verb::post : http::verb::get, target,
                                      11};
  req.set(http::field::host, address());
  req.set(http::field::user_agent, "busctl/" BUS_VERSION);
  req.set(http::field::accept, "application/json");
  req.prepare_payload();
  http::response_parser<http::string_body> parser;
  parser.body_limit(max_body_bytes);
  std::optional<beast::error_code> outcome;
  const char* stage = "resolve";
  auto fail = [&](beast::error_code ec, const char* where) {
    stage = where;
    outcome = ec;
  };
  stream.expires_after(timeout_);
  resolver.async_resolve(
    at_.host, std::to_string(at_.port),
    [&](beast::error_code ec, tcp::resolver::results_type results) {
      if (ec)
        return fail(ec, "resolve");
      stream.async_connect(results, [&](beast::error_code connect_ec,
                                        const tcp::endpoint&) {
        if (connect_ec)
          return fail(connect_ec, "connect");
        http::async_write(stream, req, [&](beast::error_code send_ec, std::size_t) {
          if (send_ec)
            return fail(send_ec, "send");
          http::async_read(stream, buffer, parser,
                           [&](beast::error_code read_ec, std::size_t) {
                             fail(read_ec, "read the answer");
                           });
        });
      });
    });
  ioc.run_for(timeout_ + std::chrono::milliseconds{100});
  if (!outcome)
    throw unreachable("no answer from the admin endpoint at " + address() + " within "
                      + std::to_string(timeout_.count()) + " ms");
  if (*outcome) {
    auto why = *outcome == beast::error::timeout
                 ? "no answer within " + std::to_string(timeout_.count()) + " ms"
                 : outcome->message();
    throw unreachable("cannot reach the admin endpoint at " + address() + " (" + stage
                      + ": " + why + ")");
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  auto& res = parser.get();
  http_reply reply;
  reply.status = res.result_int();
  reply.content_type = std::string{res[http::field::content_type]};
  reply.body = std::move(res.body());
  return reply;
}

std::string url_encode(const std::string& text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

} // namespace busctl
