// bus-peer-probe: a node that connects to a bus (bus-node --listen), with
// or without TLS, and asks it what a projector node never would, for the
// tests of peer roles. One line per request on stdout: "STEP ok" or "STEP
// ERRC" (the bus's error code, e.g. "forbidden"), or "STEP failed: TEXT".
// Steps: head, publish, directory, attach (a stand-in supervisor of model
// "probe_model"); then it waits (20 s at most) for the bus's node to route
// a status request to that supervisor, and answers it, and sends the bus
// node's supervisor (the request's sender) "pause" and "status".
// Usage: bus-peer-probe HOST PORT [CERT KEY CA]

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/remote_actor.hpp>

#include "bus/actors/init.hpp"
#include "bus/actors/interfaces.hpp"
#include "bus/errc.hpp"
#include "tls_files.hpp"

using namespace bus::actors;
using namespace std::chrono_literals;

namespace {

void report(const std::string& step, const caf::error& err) {
  if (!err)
    std::cout << step << " ok" << std::endl;
  else if (bus::code_of(err) != bus::errc::none)
    std::cout << step << " " << bus::to_string(bus::code_of(err)) << std::endl;
  else
    std::cout << step << " failed: " << caf::to_string(err) << std::endl;
}

// Sends a request answered with a T and reports how it went.
template <class T, class Handle, class... Ts>
void ask(caf::scoped_actor& self, const std::string& step, const Handle& to,
         Ts&&... xs) {
  caf::error err;
  self->request(to, std::chrono::seconds{10}, std::forward<Ts>(xs)...)
    .receive([](T&) {}, [&](caf::error& e) { err = std::move(e); });
  report(step, err);
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 3 && argc != 6) {
    std::cerr << "usage: bus-peer-probe HOST PORT [CERT KEY CA]\n";
    return 2;
  }
  std::string host = argv[1];
  auto port = static_cast<std::uint16_t>(std::atoi(argv[2]));
  bus::app::tls_files tls;
  if (argc == 6)
    tls = {argv[3], argv[4], argv[5]};
  caf::actor_system_config cfg;
  bus::init(cfg);
  bus::enable_network(cfg);
  if (tls.any())
    if (auto err = bus::app::enable_tls(cfg, tls)) {
      report("tls", err);
      return 2;
    }
  caf::actor_system sys{cfg};
  auto found = tls.any() ? caf::openssl::remote_actor<bus_actor>(sys, host, port)
                         : sys.middleman().remote_actor<bus_actor>(host, port);
  if (!found) {
    report("connect", found.error());
    return 1;
  }
  auto bus = *found;
  caf::scoped_actor self{sys};
  ask<std::uint64_t>(self, "head", bus, head_atom::value);
  bus::event e;
  e.id = "probe-1";
  e.type = "ProbeEvent";
  e.payload = {{"id", "probe-1"}};
  ask<publish_ack>(self, "publish", bus, publish_atom::value,
                   std::vector<bus::event>{e}, publish_wait::log);
  ask<std::vector<node_entry>>(self, "directory", bus, directory_atom::value);
  // A stand-in supervisor: it hands the first status request's sender (the
  // bus node's supervisor) to the probe.
  caf::actor probe = self;
  auto stand_in = sys.spawn([probe](caf::event_based_actor* me) -> caf::behavior {
    return {
      [me, probe](status_atom) {
        me->send(probe, caf::actor_cast<caf::actor>(me->current_sender()));
        return std::vector<projector_status>{};
      },
      [](ready_atom) { return std::vector<projector_status>{}; },
    };
  });
  ask<std::uint64_t>(self, "attach", bus, attach_atom::value, std::string{"probe"},
                     stand_in, std::vector<std::string>{"probe_model"});
  caf::actor routing;
  self->receive([&](caf::actor& sender) { routing = std::move(sender); },
                caf::after(std::chrono::seconds{20}) >> [] {});
  if (!routing) {
    std::cout << "routed failed: no status request came" << std::endl;
  } else {
    auto sup = caf::actor_cast<supervisor_actor>(routing);
    ask<projector_status>(self, "pause", sup, pause_atom::value,
                          std::string{"probe_model"});
    ask<std::vector<projector_status>>(self, "status", sup, status_atom::value);
  }
  self->send_exit(stand_in, caf::exit_reason::user_shutdown);
  return 0;
}
