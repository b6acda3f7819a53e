#include "bus/actors/init.hpp"

#include <algorithm>
#include <thread>

#include <caf/all.hpp>

#include "bus/actors/fwd.hpp"
#include "bus/errc.hpp"

namespace bus {

void init(caf::actor_system_config& cfg) {
  using namespace actors;
  cfg.add_error_category(
    errc_category::value,
    [](uint8_t code, caf::atom_value, const caf::message& ctx) {
      auto text = "bus: " + to_string(static_cast<errc>(code));
      if (ctx.size() == 1 && ctx.match_element<std::string>(0))
        text += " (" + ctx.get_as<std::string>(0) + ")";
      return text;
    });
  cfg.add_message_type<event>("bus.event");
  cfg.add_message_type<std::vector<event>>("std::vector<bus.event>");
  cfg.add_message_type<event_batch>("bus.event_batch");
  cfg.add_message_type<publish_outcome>("bus.publish_outcome");
  cfg.add_message_type<std::vector<publish_outcome>>(
    "std::vector<bus.publish_outcome>");
  cfg.add_message_type<model_ack>("bus.model_ack");
  cfg.add_message_type<publish_ack>("bus.publish_ack");
  cfg.add_message_type<delivery_ack>("bus.delivery_ack");
  cfg.add_message_type<query_result>("bus.query_result");
  cfg.add_message_type<model_snapshot>("bus.model_snapshot");
  cfg.add_message_type<projector_status>("bus.projector_status");
  cfg.add_message_type<bus_status>("bus.bus_status");
  cfg.add_message_type<std::vector<projector_status>>(
    "std::vector<bus.projector_status>");
  cfg.add_message_type<projector_actor>("bus.projector_actor");
  cfg.add_message_type<bus_actor>("bus.bus_actor");
  cfg.add_message_type<supervisor_actor>("bus.supervisor_actor");
}

void one_worker_per_core(caf::actor_system_config& cfg) {
  cfg.set("scheduler.max-threads",
          std::max(2u, std::thread::hardware_concurrency()));
}

} // namespace bus
