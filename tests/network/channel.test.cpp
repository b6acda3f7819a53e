// A channel published on one actor system, used from another over a real
// loopback connection: a remote receiver that dies before acking loses its
// message to a local one, and a remote requester gets its reply. Waits have
// deadlines; nothing sleeps.

#include "bus/actors/channel.hpp"

#include <boost/test/unit_test.hpp>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "bus/actors/init.hpp"
#include "bus/errc.hpp"

using namespace std::chrono_literals;
using namespace bus;
using namespace bus::actors;

namespace {

caf::actor_system_config& network_config(caf::actor_system_config& cfg) {
  bus::init(cfg);
  bus::enable_network(cfg);
  cfg.set("logger.verbosity", caf::atom("quiet"));
  return cfg;
}

// A receiver that reports each take to `sink` as (name, message), acks
// plain messages when eager, and answers requests with "pong:<body>".
channel_receiver_actor spawn_receiver(caf::actor_system& sys, caf::actor sink,
                                      std::string name, channel_actor channel,
                                      bool eager) {
  return sys.spawn(
    [=](channel_receiver_actor::pointer self) -> channel_receiver_actor::behavior_type {
      return {
        [=](take_atom, channel_message& m) {
          // anon_send: a typed actor may not send() to an untyped one.
          caf::anon_send(sink, name, m);
          if (!m.correlation_id.empty())
            self->send(channel, reply_atom::value,
                       channel_reply{m.id, m.correlation_id, "pong:" + m.body});
          else if (eager)
            self->send(channel, ack_atom::value, m.id);
        },
      };
    });
}

struct two_nodes {
  caf::actor_system_config server_cfg;
  caf::actor_system server{network_config(server_cfg)};
  caf::actor_system_config client_cfg;
  caf::actor_system client{network_config(client_cfg)};
  channel_actor channel;
  channel_actor remote_channel;
  std::vector<channel_receiver_actor> receivers;

  two_nodes() {
    channel_options options;
    options.ack_timeout = caf::timespan::zero(); // only deaths redeliver here
    channel = spawn_channel(server, options);
    auto port = server.middleman().publish(channel, 0, "127.0.0.1", true);
    BOOST_REQUIRE(port);
    auto found = client.middleman().remote_actor<channel_actor>("127.0.0.1", *port);
    if (!found)
      BOOST_FAIL(client.render(found.error()));
    remote_channel = *found;
  }

  ~two_nodes() {
    for (auto& r : receivers)
      caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(channel, caf::exit_reason::user_shutdown);
  }

  void join(caf::scoped_actor& self, const channel_actor& via,
            const channel_receiver_actor& r) {
    self->request(via, 10s, join_atom::value, r, std::uint32_t{1})
      .receive([](channel_status&) {},
               [&](caf::error& err) { BOOST_FAIL(self->system().render(err)); });
  }

  // The next take reported to `sink`, or a failure after 10 s.
  static std::pair<std::string, channel_message> next_take(caf::scoped_actor& sink) {
    std::pair<std::string, channel_message> result;
    sink->receive(
      [&](std::string& name, channel_message& m) {
        result = {std::move(name), std::move(m)};
      },
      caf::after(10s) >> [] { BOOST_FAIL("no delivery within 10 s"); });
    return result;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(channel_distributed, two_nodes)

BOOST_AUTO_TEST_CASE(
  a_remote_receiver_killed_before_acking_has_its_message_redelivered_here) {
  caf::scoped_actor client_sink{client};
  caf::scoped_actor server_sink{server};
  auto remote = spawn_receiver(client, client_sink, "remote", remote_channel, false);
  receivers.push_back(remote);
  join(client_sink, remote_channel, remote);
  server_sink->request(channel, 10s, enqueue_atom::value, std::string{"job"})
    .receive([](std::uint64_t id) { BOOST_TEST(id == 1u); },
             [&](caf::error& err) { BOOST_FAIL(server.render(err)); });
  auto first = next_take(client_sink);
  BOOST_TEST(first.first == "remote");
  BOOST_TEST(first.second.body == "job");
  BOOST_TEST(first.second.attempt == 1u);
  // A local receiver joins: the job is the remote one's, so it waits.
  auto local = spawn_receiver(server, server_sink, "local", channel, true);
  receivers.push_back(local);
  join(server_sink, channel, local);
  // The remote receiver dies without acking; the channel hears of it
  // over the connection and hands the job to the local one.
  caf::anon_send_exit(remote, caf::exit_reason::kill);
  auto second = next_take(server_sink);
  BOOST_TEST(second.first == "local");
  BOOST_TEST(second.second.id == first.second.id);
  BOOST_TEST(second.second.body == "job");
  BOOST_TEST(second.second.attempt == 2u);
  // Acked by the local receiver: settled. The remote side sees the status.
  auto deadline = std::chrono::steady_clock::now() + 10s;
  channel_status status;
  do {
    client_sink->request(remote_channel, 10s, status_atom::value)
      .receive([&](channel_status& s) { status = s; },
               [&](caf::error& err) { BOOST_FAIL(client.render(err)); });
  } while (status.acked < 1 && std::chrono::steady_clock::now() < deadline);
  BOOST_TEST(status.acked == 1u);
  BOOST_TEST(status.redelivered == 1u);
  BOOST_TEST(status.receivers == 1u);
}

BOOST_AUTO_TEST_CASE(a_remote_requester_gets_the_reply_of_a_remote_receiver) {
  caf::scoped_actor client_sink{client};
  auto responder = spawn_receiver(client, client_sink, "responder", remote_channel,
                                  false);
  receivers.push_back(responder);
  join(client_sink, remote_channel, responder);
  caf::scoped_actor requester{client};
  for (auto id : {"corr-1", "corr-2"}) {
    requester
      ->request(remote_channel, 10s, request_atom::value, std::string{id},
                std::string{"ping "} + id, caf::timespan{5s})
      .receive(
        [&](channel_reply& reply) {
          BOOST_TEST(reply.correlation_id == id);
          BOOST_TEST(reply.body == std::string{"pong:ping "} + id);
        },
        [&](caf::error& err) { BOOST_FAIL(client.render(err)); });
  }
}

BOOST_AUTO_TEST_CASE(a_remote_request_nobody_answers_fails_with_no_reply) {
  caf::scoped_actor requester{client};
  requester
    ->request(remote_channel, 10s, request_atom::value, std::string{"corr-1"},
              std::string{"anyone?"}, caf::timespan{200ms})
    .receive([](channel_reply&) { BOOST_FAIL("a reply without a receiver"); },
             [&](caf::error& err) {
               BOOST_TEST(code_of(err) == errc::no_reply, client.render(err));
             });
}

BOOST_AUTO_TEST_SUITE_END()
