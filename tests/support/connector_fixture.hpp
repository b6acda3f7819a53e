#pragma once

// A projector node's connector on the testing scheduler, with the network
// left out: what the connector's tests and the failover dialer's share.
// A fixture deriving from it spawns `connector` (and keeps the supervisor
// it made in `node_sup`).

#include <boost/test/unit_test.hpp>

#include "bus/actors/connector.hpp"
#include "support/bus_fixture.hpp"

namespace bus::test {

struct connector_fixture_base : bus_fixture {
  actors::supervisor_actor node_sup;
  actors::connector_actor connector;

  ~connector_fixture_base() {
    if (connector)
      self->send_exit(connector, caf::exit_reason::user_shutdown);
    run();
  }

  actors::link_status link() {
    auto result = ask<actors::link_status>(connector, actors::status_atom::value);
    BOOST_REQUIRE(result);
    return *result;
  }

  // Fires timers one at a time until the connector is attached again.
  void until_connected() {
    for (int i = 0; i < 20 && !link().connected; ++i) {
      sched.trigger_timeout();
      run();
    }
    BOOST_REQUIRE(link().connected);
  }
};

} // namespace bus::test
