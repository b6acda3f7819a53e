// Every registered message type crosses a real loopback connection between
// two actor systems and comes back: what bus::init registers is what nodes
// can exchange. (The compile-time check in wire_types.hpp proves that every
// type of every actor interface is in that list.)

#include "bus/actors/wire_types.hpp"

#include <boost/test/unit_test.hpp>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "bus/actors/init.hpp"

using namespace std::chrono_literals;
using namespace bus;
using namespace bus::actors;

namespace {

// Not registered on purpose: it must fail to cross, or the test proves
// nothing.
struct unregistered {
  std::string text;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, unregistered& x) {
  return f(caf::meta::type_name("test.unregistered"), x.text);
}

caf::actor_system_config& network_config(caf::actor_system_config& cfg) {
  bus::init(cfg);
  bus::enable_network(cfg);
  cfg.set("logger.verbosity", caf::atom("quiet"));
  return cfg;
}

struct two_nodes {
  caf::actor_system_config server_cfg;
  caf::actor_system server{network_config(server_cfg)};
  caf::actor_system_config client_cfg;
  caf::actor_system client{network_config(client_cfg)};
  caf::actor echo;
  caf::actor remote_echo;

  two_nodes() {
    // Answers every message with the message itself.
    echo = server.spawn([](caf::event_based_actor* self) {
      self->set_default_handler(
        [](caf::scheduled_actor*, caf::message_view& x) -> caf::result<caf::message> {
          return x.move_content_to_message();
        });
      return caf::behavior{[](caf::exit_msg&) {}};
    });
    auto port = server.middleman().publish(echo, 0, "127.0.0.1", true);
    BOOST_REQUIRE(port);
    auto found = client.middleman().remote_actor("127.0.0.1", *port);
    BOOST_REQUIRE(found);
    remote_echo = *found;
  }

  ~two_nodes() { caf::anon_send_exit(echo, caf::exit_reason::user_shutdown); }

  // Sends `x` to the other node and back; true when a T came back.
  template <class T>
  bool round_trip(T x) {
    caf::scoped_actor self{client};
    bool ok = false;
    self->request(remote_echo, 5s, std::move(x))
      .receive([&](T&) { ok = true; }, [&](caf::error&) { ok = false; });
    return ok;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(wire_types_distributed, two_nodes)

BOOST_AUTO_TEST_CASE(every_registered_type_crosses_a_real_connection) {
  auto check = [&](auto type) {
    using type_t = typename decltype(type)::type;
    BOOST_TEST(round_trip(type_t{}), type.name << " did not come back");
  };
  std::apply([&](auto... types) { (check(types), ...); }, wire_types());
}

BOOST_AUTO_TEST_CASE(values_arrive_intact) {
  event e;
  e.id = "e-1";
  e.type = "UserCreated";
  e.payload = boost::json::object{{"id", "u1"}, {"tags", boost::json::array{1, 2}}};
  e.seq = 7;
  caf::scoped_actor self{client};
  self->request(remote_echo, 5s, event_batch::of({e}))
    .receive(
      [&](event_batch& batch) {
        BOOST_REQUIRE_EQUAL(batch.size(), 1u);
        BOOST_TEST(batch[0].id == "e-1");
        BOOST_TEST(batch[0].seq == 7u);
        BOOST_TEST(batch[0].payload == e.payload);
      },
      [&](caf::error& err) { BOOST_FAIL(client.render(err)); });
}

BOOST_AUTO_TEST_CASE(metrics_in_statuses_arrive_intact) {
  // The admin endpoint of a bus node reports remote models' latencies.
  projector_status ps;
  ps.model = "orders";
  ps.apply_latency.observe(3ms);
  ps.apply_latency.observe(7s);
  ps.mailbox = 7;
  bus_status bs;
  bs.appended = 5;
  bs.duplicates = 2;
  bs.store.measured = true;
  bs.store.commit.observe(2ms);
  bs.store.fsync.observe(1ms);
  bs.mailbox = 4;
  caf::scoped_actor self{client};
  self->request(remote_echo, 5s, ps)
    .receive(
      [&](projector_status& x) {
        BOOST_TEST(x.model == "orders");
        BOOST_TEST((x.apply_latency == ps.apply_latency));
        BOOST_TEST(x.mailbox == 7u);
      },
      [&](caf::error& err) { BOOST_FAIL(client.render(err)); });
  self->request(remote_echo, 5s, bs)
    .receive(
      [&](bus_status& x) {
        BOOST_TEST(x.appended == 5u);
        BOOST_TEST(x.duplicates == 2u);
        BOOST_TEST(x.store.measured);
        BOOST_TEST((x.store.commit == bs.store.commit));
        BOOST_TEST((x.store.fsync == bs.store.fsync));
        BOOST_TEST(x.mailbox == 4u);
      },
      [&](caf::error& err) { BOOST_FAIL(client.render(err)); });
}

BOOST_AUTO_TEST_CASE(an_unregistered_type_does_not_cross) {
  BOOST_TEST(!round_trip(unregistered{"lost"}));
}

BOOST_AUTO_TEST_SUITE_END()
