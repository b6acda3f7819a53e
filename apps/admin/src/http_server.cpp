// The HTTP side of the admin endpoint (server.hpp): Beast sessions on one
// Asio thread. A session reads one request at a time (bounded header and
// body, a read deadline), routes it, serves an embedded file itself or
// asks the gateway actor, and writes the answer; keep-alive connections
// loop. The gateway's answer comes back by a post to this thread, to a
// session that may be gone by then (it holds the session weakly).

#include "bus/admin/server.hpp"

#include <optional>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <caf/all.hpp>

#include "bus/admin/routes.hpp"
#include "bus/errc.hpp"
#include "gateway.hpp"

namespace bus::admin {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// What every session shares. Declared before the io_context, so that the
// sessions the io_context destroys last can still reach it.
struct core {
  admin_options options;
  gateway_actor gateway;
  /// Sessions open now (touched by the HTTP thread only).
  std::size_t active = 0;
  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  /// Paces accepting again after an accept error (out of descriptors).
  asio::steady_timer accept_pause{ioc};
};

// Fills `res` from `a` (headers every answer carries).
void fill(http::response<http::string_body>& res, answer a, bool keep_alive) {
  res.result(static_cast<http::status>(a.status));
  res.set(http::field::server, "bus-admin");
  res.set(http::field::content_type, a.content_type);
  res.set(http::field::cache_control, "no-store");
  if (!a.allow.empty())
    res.set(http::field::allow, a.allow);
  res.keep_alive(keep_alive);
  res.body() = std::move(a.body);
  res.prepare_payload();
}

class session : public std::enable_shared_from_this<session> {
public:
  session(core& c, tcp::socket socket)
    : core_(c), stream_(std::move(socket)), wait_(c.ioc) {
    ++core_.active;
  }

  ~session() { --core_.active; }

  void start() { read(); }

private:
  void read() {
    parser_.emplace();
    parser_->body_limit(core_.options.max_body_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(core_.options.max_header_bytes));
    stream_.expires_after(core_.options.read_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       self->on_read(ec);
                     });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      reply(error_answer(error_code::payload_too_large,
                         "the request body is over "
                           + std::to_string(core_.options.max_body_bytes) + " bytes"),
            false);
      return;
    }
    if (ec == http::error::header_limit) {
      reply(error_answer(error_code::header_too_large,
                         "the request header is over "
                           + std::to_string(core_.options.max_header_bytes) + " bytes"),
            false);
      return;
    }
    if (ec && ec.category() == beast::error_code{http::error::bad_method}.category()
        && ec != http::error::end_of_stream && ec != http::error::partial_message) {
      reply(error_answer(error_code::bad_request,
                         "malformed HTTP request: " + ec.message()),
            false);
      return;
    }
    if (ec) {
      // Closed by the client, timed out, reset: nobody to answer.
      close();
      return;
    }
    auto& req = parser_->get();
    keep_alive_ = req.keep_alive();
    auto routed = route_request(req.method_string(), req.target());
    if (auto* a = std::get_if<answer>(&routed)) {
      reply(std::move(*a), keep_alive_);
      return;
    }
    auto& r = std::get<route>(routed);
    if (r.kind == route_kind::file) {
      answer a;
      a.content_type = std::string{content_type_of(r.file->path)};
      a.body = std::string{r.file->bytes};
      reply(std::move(a), keep_alive_);
      return;
    }
    ask_gateway(std::move(r));
  }

  void ask_gateway(route r) {
    waiting_ = true;
    // The gateway always answers (each of its requests has a deadline);
    // this only guards against one that is gone.
    wait_.expires_after(core_.options.timeout + std::chrono::seconds{2});
    wait_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec)
        self->answered(
          error_answer(error_code::unavailable, "the node did not answer in time"));
    });
    auto* c = &core_;
    std::weak_ptr<session> weak = shared_from_this();
    auto callback = [c, weak](answer a) {
      asio::post(c->ioc, [weak, a = std::move(a)]() mutable {
        if (auto self = weak.lock())
          self->answered(std::move(a));
      });
    };
    caf::anon_send(core_.gateway, admin_call{std::move(r), std::move(callback)});
  }

  void answered(answer a) {
    if (!waiting_)
      return;
    waiting_ = false;
    wait_.cancel();
    reply(std::move(a), keep_alive_);
  }

  void reply(answer a, bool keep_alive) {
    res_ = {};
    res_.version(parser_ && parser_->is_header_done() ? parser_->get().version() : 11);
    fill(res_, std::move(a), keep_alive);
    stream_.expires_after(core_.options.read_timeout);
    http::async_write(stream_, res_,
                      [self = shared_from_this(), keep_alive](beast::error_code ec,
                                                              std::size_t) {
                        if (ec || !keep_alive)
                          self->close();
                        else
                          self->read();
                      });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  core& core_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> res_;
  asio::steady_timer wait_;
  bool waiting_ = false;
  bool keep_alive_ = false;
};

// Answers a connection over the bound with 503 and closes it.
class refusal : public std::enable_shared_from_this<refusal> {
public:
  refusal(tcp::socket socket, std::size_t bound) : stream_(std::move(socket)) {
    fill(res_,
         error_answer(error_code::unavailable, "too many connections: at most "
                                                 + std::to_string(bound)
                                                 + " are served at once"),
         false);
  }

  void start() {
    stream_.expires_after(std::chrono::seconds{2});
    http::async_write(
      stream_, res_, [self = shared_from_this()](beast::error_code, std::size_t) {
        beast::error_code ignored;
        self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
        self->stream_.close();
      });
  }

private:
  beast::tcp_stream stream_;
  http::response<http::string_body> res_;
};

void accept(core& c) {
  c.acceptor.async_accept(c.ioc, [&c](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted)
      return; // stopping
    if (ec) {
      // Out of descriptors, say: try again shortly rather than spin.
      c.accept_pause.expires_after(std::chrono::milliseconds{100});
      c.accept_pause.async_wait([&c](beast::error_code e) {
        if (!e)
          accept(c);
      });
      return;
    }
    if (c.active >= c.options.max_connections)
      std::make_shared<refusal>(std::move(socket), c.options.max_connections)->start();
    else
      std::make_shared<session>(c, std::move(socket))->start();
    accept(c);
  });
}

class http_server final : public server {
public:
  http_server(caf::actor_system& sys, admin_options options)
    : server(options.at.host), sys_(sys), core_(std::make_unique<core>()) {
    core_->options = std::move(options);
  }

  ~http_server() override {
    // The gateway first: once it is gone, nothing posts to the io_context.
    if (core_->gateway) {
      caf::scoped_actor self{sys_};
      self->send_exit(core_->gateway, caf::exit_reason::kill);
      self->wait_for(core_->gateway);
    }
    core_->ioc.stop();
    if (thread_.joinable())
      thread_.join();
    // core_ goes now: the acceptor, then the io_context with every session
    // its pending handlers still hold.
  }

  std::uint16_t port() const noexcept override { return port_; }

  caf::error listen() {
    auto& at = core_->options.at;
    beast::error_code ec;
    tcp::endpoint where;
    auto address = asio::ip::make_address(at.host, ec);
    if (!ec) {
      where = tcp::endpoint{address, at.port};
    } else {
      tcp::resolver resolver{core_->ioc};
      auto found = resolver.resolve(at.host, std::to_string(at.port), ec);
      if (ec || found.empty())
        return make_error(errc::invalid_config,
                          "cannot resolve " + at.host + ": " + ec.message());
      where = found.begin()->endpoint();
    }
    auto& acceptor = core_->acceptor;
    auto fail = [&](const char* what) {
      return make_error(errc::invalid_config, std::string{"cannot listen on "} + at.host
                                                + ":" + std::to_string(at.port) + ": "
                                                + what + ": " + ec.message());
    };
    if (acceptor.open(where.protocol(), ec))
      return fail("open");
    acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (acceptor.bind(where, ec))
      return fail("bind");
    if (acceptor.listen(asio::socket_base::max_listen_connections, ec))
      return fail("listen");
    port_ = acceptor.local_endpoint(ec).port();
    return caf::none;
  }

  void start(gateway_config config) {
    core_->gateway = sys_.spawn(gateway_impl, std::move(config));
    accept(*core_);
    thread_ = std::thread{[c = core_.get()] {
      for (;;) {
        try {
          c->ioc.run();
          return;
        } catch (const std::exception&) {
          // A handler threw (out of memory, say): drop it, keep serving.
        }
      }
    }};
  }

private:
  caf::actor_system& sys_;
  std::unique_ptr<core> core_;
  std::thread thread_;
  std::uint16_t port_ = 0;
};

} // namespace

admin_options admin_options::of_bus_node(endpoint at, actors::bus_actor bus,
                                         actors::supervisor_actor supervisor) {
  admin_options result;
  result.at = std::move(at);
  result.bus = std::move(bus);
  result.supervisor = std::move(supervisor);
  return result;
}

admin_options admin_options::of_projector_node(endpoint at,
                                               actors::connector_actor connector) {
  admin_options result;
  result.at = std::move(at);
  result.connector = std::move(connector);
  return result;
}

server::~server() = default;

std::string server::url() const {
  auto host = host_.find(':') != std::string::npos ? "[" + host_ + "]" : host_;
  return "http://" + host + ":" + std::to_string(port()) + "/";
}

caf::error check_endpoint(const endpoint& at, bool allow_remote) {
  if (allow_remote || is_loopback(at.host))
    return caf::none;
  return make_error(errc::invalid_config,
                    at.host
                      + " is not a loopback address; the admin endpoint has no "
                        "authentication, so pass --allow-remote to serve there");
}

caf::expected<std::unique_ptr<server>> serve(caf::actor_system& sys,
                                             admin_options options) {
  gateway_config config;
  config.bus = options.bus;
  config.supervisor = options.supervisor;
  config.connector = options.connector;
  config.timeout = options.timeout;
  config.lease = options.lease;
  if (!config.connector && (!config.bus || !config.supervisor))
    return make_error(
      errc::invalid_config,
      "the admin endpoint needs a bus and a supervisor, or a connector");
  auto result = std::make_unique<http_server>(sys, std::move(options));
  if (auto err = result->listen())
    return err;
  result->start(std::move(config));
  return std::unique_ptr<server>{std::move(result)};
}

} // namespace bus::admin
