#include "bus/actors/init.hpp"

#include <algorithm>
#include <thread>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "bus/actors/wire_types.hpp"
#include "bus/errc.hpp"
#include "internal/wake_stealing.hpp"

namespace bus {

void init(caf::actor_system_config& cfg) {
  using namespace actors;
  cfg.add_error_category(errc_category::value,
                         [](uint8_t code, caf::atom_value, const caf::message& ctx) {
                           auto text = "bus: " + to_string(static_cast<errc>(code));
                           if (ctx.size() == 1 && ctx.match_element<std::string>(0))
                             text += " (" + ctx.get_as<std::string>(0) + ")";
                           return text;
                         });
  std::apply(
    [&](auto... types) {
      (cfg.add_message_type<typename decltype(types)::type>(types.name), ...);
    },
    actors::wire_types());
}

void enable_network(caf::actor_system_config& cfg, network_options options) {
  cfg.load<caf::io::middleman>();
  cfg.set("middleman.heartbeat-interval", options.heartbeat_interval);
  cfg.set("middleman.connection-timeout", options.connection_timeout);
}

const char* to_string(idle_workers x) noexcept {
  switch (x) {
    case idle_workers::poll:
      return "poll";
    case idle_workers::wake:
      return "wake";
  }
  return "?";
}

std::optional<idle_workers> idle_workers_from_string(std::string_view x) noexcept {
  for (auto v : {idle_workers::poll, idle_workers::wake})
    if (x == to_string(v))
      return v;
  return std::nullopt;
}

void one_worker_per_core(caf::actor_system_config& cfg, idle_workers idle) {
  cfg.set("scheduler.max-threads", std::max(2u, std::thread::hardware_concurrency()));
  // A scheduler module loaded here replaces CAF's choice by
  // "scheduler.policy" (so this is for real systems, not the testing one).
  if (idle == idle_workers::wake)
    cfg.load<caf::scheduler::coordinator<internal::wake_stealing>>();
}

} // namespace bus
