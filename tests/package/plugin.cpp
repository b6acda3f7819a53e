// A plugin (a shared object loaded at run time) built on bus::actors: it
// runs a bus of its own and publishes `n` events to it.
#include <memory>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "bus/actors/bus_actor.hpp"
#include "bus/actors/init.hpp"
#include "bus/memory_log.hpp"

/// Returns the seq of the last of `n` events published, or 0 on failure.
extern "C" unsigned long long bus_plugin_publish(int n) {
  caf::actor_system_config cfg;
  bus::init(cfg);
  caf::actor_system sys{cfg};
  auto bus = bus::actors::spawn_bus(sys, std::make_shared<bus::memory_log>());
  std::vector<bus::event> events;
  for (int i = 0; i < n; ++i) {
    bus::event e;
    e.id = "plugin-" + std::to_string(i);
    e.type = "Loaded";
    events.push_back(std::move(e));
  }
  unsigned long long last = 0;
  caf::scoped_actor self{sys};
  self
    ->request(bus, caf::infinite, bus::actors::publish_atom::value, std::move(events),
              bus::actors::publish_wait::log)
    .receive([&](bus::actors::publish_ack& ack) { last = ack.outcomes.back().seq; },
             [](caf::error&) {});
  self->send_exit(bus, caf::exit_reason::user_shutdown);
  return last;
}
