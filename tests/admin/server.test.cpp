// The admin endpoint's HTTP server on a real socket, against a bus and a
// supervisor in this process: the bounds a client could abuse (a request
// never finished, too many connections, a body or header too large, a
// malformed request). Threads and sockets: every wait has a deadline.

#include "bus/admin/server.hpp"

#include <chrono>
#include <mutex>
#include <thread>
#include <utility>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>
#include <caf/all.hpp>
#include <sys/socket.h>

#include "bus/actors/bus_actor.hpp"
#include "bus/actors/init.hpp"
#include "bus/actors/supervisor.hpp"
#include "bus/errc.hpp"
#include "bus/memory_log.hpp"
#include "support/http_client.hpp"
#include "support/json_events.hpp"
#include "support/test_models.hpp"

using namespace std::chrono_literals;
using namespace bus;
using namespace bus::actors;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

caf::actor_system_config& quiet(caf::actor_system_config& cfg) {
  bus::init(cfg);
  cfg.set("logger.verbosity", caf::atom("quiet"));
  return cfg;
}

using bus::test::client;

std::string get(std::uint16_t port, const std::string& path) {
  client c{port};
  c.send("GET " + path + " HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
  return c.read_all();
}

struct server_fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{quiet(cfg)};
  bus_actor bus = spawn_bus(sys, std::make_shared<memory_log>(), bus_options{});
  supervisor_actor sup = spawn_supervisor(
    sys, bus, std::vector<model_spec>{test::tally("t", {"A"})}, supervision_policy{},
    projector_options{});
  std::unique_ptr<admin::server> server;

  void start(std::chrono::milliseconds read_timeout, std::size_t max_connections) {
    auto options = admin::admin_options::of_bus_node({"127.0.0.1", 0}, bus, sup);
    options.read_timeout = read_timeout;
    options.max_connections = max_connections;
    auto served = admin::serve(sys, options);
    if (!served)
      BOOST_FAIL(context_of(served.error()));
    server = std::move(*served);
  }

  ~server_fixture() {
    server.reset();
    caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(bus, caf::exit_reason::user_shutdown);
  }
};

/// A memory log that records how many events each read asked for.
class counted_log final : public event_log {
public:
  std::optional<std::uint64_t> find(std::string_view id) const override {
    return inner_.find(id);
  }

  event_batch read(std::uint64_t from, std::size_t max) const override {
    std::lock_guard<std::mutex> guard{mtx_};
    asked_.push_back(max);
    return inner_.read(from, max);
  }

  std::uint64_t head() const noexcept override { return inner_.head(); }

  /// The counts asked so far, and forgets them.
  std::vector<std::size_t> take_asked() {
    std::lock_guard<std::mutex> guard{mtx_};
    return std::exchange(asked_, {});
  }

protected:
  append_result do_append(std::vector<event> batch) override {
    return inner_.append(std::move(batch));
  }

private:
  memory_log inner_;
  mutable std::mutex mtx_;
  mutable std::vector<std::size_t> asked_;
};

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.rfind(prefix, 0) == 0;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(server_multithread, server_fixture)

BOOST_AUTO_TEST_CASE(a_client_that_never_finishes_its_request_is_dropped) {
  start(300ms, 64);
  client slow{server->port()};
  slow.send("GET /status HTTP/1.1\r\nHo"); // and nothing more
  // Others are served meanwhile: the slow one holds nothing.
  BOOST_TEST(starts_with(get(server->port(), "/status"), "HTTP/1.1 200"));
  auto start = std::chrono::steady_clock::now();
  auto rest = slow.read_all();
  auto waited = std::chrono::steady_clock::now() - start;
  BOOST_TEST(rest.empty()); // closed without an answer
  BOOST_TEST((waited < 4s),
             "closed after "
               << std::chrono::duration_cast<std::chrono::milliseconds>(waited).count()
               << " ms");
}

BOOST_AUTO_TEST_CASE(connections_over_the_bound_get_503_and_the_rest_go_on) {
  start(10s, 4);
  std::vector<std::unique_ptr<client>> idle;
  for (int i = 0; i < 4; ++i)
    idle.push_back(std::make_unique<client>(server->port()));
  // The server counts a connection once it has accepted it: give the idle
  // ones a moment to be accepted, then the fifth is refused.
  std::string refused;
  auto deadline = std::chrono::steady_clock::now() + 5s;
  do {
    refused = get(server->port(), "/status");
  } while (starts_with(refused, "HTTP/1.1 200")
           && std::chrono::steady_clock::now() < deadline);
  BOOST_TEST(starts_with(refused, "HTTP/1.1 503"), refused);
  BOOST_TEST(refused.find("too many connections") != std::string::npos);
  // An idle one keeps its connection and is served.
  idle[0]->send("GET /health HTTP/1.1\r\nHost: test\r\n\r\n");
  BOOST_TEST(starts_with(idle[0]->read_response(), "HTTP/1.1 200"));
  // Once one goes, a new client is served again.
  idle.pop_back();
  std::string answer;
  deadline = std::chrono::steady_clock::now() + 5s;
  do {
    answer = get(server->port(), "/status");
  } while (!starts_with(answer, "HTTP/1.1 200")
           && std::chrono::steady_clock::now() < deadline);
  BOOST_TEST(starts_with(answer, "HTTP/1.1 200"), answer);
}

BOOST_AUTO_TEST_CASE(a_kept_alive_connection_serves_request_after_request) {
  start(10s, 64);
  client c{server->port()};
  for (auto path : {"/status", "/health", "/metrics", "/"}) {
    c.send(std::string{"GET "} + path + " HTTP/1.1\r\nHost: test\r\n\r\n");
    BOOST_TEST(starts_with(c.read_response(), "HTTP/1.1 200"), path);
  }
}

BOOST_AUTO_TEST_CASE(a_body_over_its_bound_is_413) {
  start(10s, 64);
  client c{server->port()};
  c.send(
    "POST /models/t/pause HTTP/1.1\r\nHost: test\r\nContent-Length: 70000\r\n\r\n");
  auto answer = c.read_all();
  BOOST_TEST(starts_with(answer, "HTTP/1.1 413"), answer);
  BOOST_TEST(answer.find("\"payload_too_large\"") != std::string::npos);
  // A body within it is taken (and ignored).
  client ok{server->port()};
  ok.send("POST /models/t/pause HTTP/1.1\r\nHost: test\r\nConnection: close\r\n"
          "Content-Length: 5\r\n\r\nhello");
  BOOST_TEST(starts_with(ok.read_all(), "HTTP/1.1 200"));
}

BOOST_AUTO_TEST_CASE(a_header_over_its_bound_is_431) {
  start(10s, 64);
  client c{server->port()};
  c.send("GET /status HTTP/1.1\r\nHost: test\r\nX-Big: " + std::string(9000, 'x')
         + "\r\n\r\n");
  auto answer = c.read_all();
  BOOST_TEST(starts_with(answer, "HTTP/1.1 431"), answer);
  BOOST_TEST(answer.find("\"header_too_large\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_malformed_request_is_400) {
  start(10s, 64);
  client c{server->port()};
  c.send("THIS IS NOT HTTP\r\n\r\n");
  auto answer = c.read_all();
  BOOST_TEST(starts_with(answer, "HTTP/1.1 400"), answer);
  BOOST_TEST(answer.find("\"bad_request\"") != std::string::npos);
}

// A page holds at most 1 MiB: the bus is asked for about what fits, not for
// `limit` events it would hold in memory to send a few.
BOOST_AUTO_TEST_CASE(a_page_of_large_events_asks_the_bus_for_what_fits) {
  auto log = std::make_shared<counted_log>();
  std::vector<event> events;
  for (int i = 1; i <= 40; ++i) {
    auto e = test::make_event("Big",
                              R"({"blob": ")" + std::string(300'000, 'x') + "\"}");
    e.id = "e-" + std::to_string(i);
    events.push_back(std::move(e));
  }
  log->append(std::move(events));
  auto big_bus = spawn_bus(sys, log, bus_options{});
  auto no_models = spawn_supervisor(sys, big_bus, std::vector<model_spec>{},
                                    supervision_policy{}, projector_options{});
  auto served = admin::serve(
    sys, admin::admin_options::of_bus_node({"127.0.0.1", 0}, big_bus, no_models));
  BOOST_REQUIRE(served);
  log->take_asked();
  auto answer = get((*served)->port(), "/events?from=1&limit=1000");
  BOOST_TEST(starts_with(answer, "HTTP/1.1 200"), answer.substr(0, 200));
  BOOST_TEST(answer.find("\"next\": 4,") != std::string::npos,
             answer.substr(0, 200)); // three events of 300 KB fit
  std::size_t asked = 0;
  for (auto n : log->take_asked())
    asked += n;
  BOOST_TEST(asked <= 12u, "the bus was asked for " << asked << " events");
  served->reset();
  caf::anon_send_exit(no_models, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(big_bus, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_CASE(a_host_that_is_not_loopback_needs_allow_remote) {
  auto refused = admin::check_endpoint({"0.0.0.0", 0}, false);
  BOOST_REQUIRE(refused);
  BOOST_TEST(context_of(refused).find("0.0.0.0 is not a loopback address")
             != std::string::npos);
  BOOST_TEST(context_of(refused).find("--allow-remote") != std::string::npos);
  BOOST_TEST(!admin::check_endpoint({"0.0.0.0", 0}, true));
  BOOST_TEST(!admin::check_endpoint({"127.0.0.1", 0}, false));
  BOOST_TEST(!admin::check_endpoint({"::1", 0}, false));
}

BOOST_AUTO_TEST_SUITE_END()
