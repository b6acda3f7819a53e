// Publishes one event through an installed bus and prints the seq it got.
#include <iostream>

#include <caf/all.hpp>

#include "bus/actors/bus_actor.hpp"
#include "bus/actors/init.hpp"
#include "bus/memory_log.hpp"

int main() {
  caf::actor_system_config cfg;
  bus::init(cfg);
  caf::actor_system sys{cfg};
  auto bus = bus::actors::spawn_bus(sys, std::make_shared<bus::memory_log>(),
                                    bus::actors::bus_options{});
  bus::event e;
  e.id = "e-1";
  e.type = "Installed";
  caf::scoped_actor self{sys};
  int status = 1;
  self
    ->request(bus, caf::infinite, bus::actors::publish_atom::value,
              std::vector<bus::event>{e}, bus::actors::publish_wait::log)
    .receive(
      [&](bus::actors::publish_ack& ack) {
        std::cout << "consumer: seq " << ack.outcomes.at(0).seq << "\n";
        status = 0;
      },
      [&](caf::error& err) { std::cerr << sys.render(err) << "\n"; });
  self->send_exit(bus, caf::exit_reason::user_shutdown);
  return status;
}
