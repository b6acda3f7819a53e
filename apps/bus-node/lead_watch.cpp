#include "lead_watch.hpp"

#include <string>
#include <utility>

#include <caf/all.hpp>

#include "bus/log.hpp"

namespace bus::node {

lead_watch watch_lead(led_log& lead, lead_confirmed confirmed, session_actor session,
                      actors::bus_actor bus,
                      std::shared_ptr<std::atomic<bool>> lost_lead) {
  leadership seen;
  seen.lease = lead.lease->options().name;
  seen.holder = lead.lease->options().holder;
  seen.token = lead.lease->token();
  seen.ttl = lead.lease->options().ttl;
  seen.why = "took the lease (token " + std::to_string(seen.token) + ")";
  lead_watch result;
  result.board = std::make_shared<lease_board>(std::move(seen));
  auto on_change = [session, bus, lost_lead,
                    board = result.board](lead_state state, const std::string& why) {
    board->set(state, why);
    switch (state) {
      case lead_state::leading:
        BUS_LOG(log_level::info, "bus-node", "leading again: " << why);
        break;
      case lead_state::unsure:
        BUS_LOG(log_level::warning, "bus-node",
                "refusing requests until the lease is renewed: " << why);
        break;
      case lead_state::lost:
        BUS_LOG(log_level::error, "bus-node",
                "this bus node no longer leads the log: "
                  << why << "; stopping its bus and refusing every request");
        *lost_lead = true;
        caf::anon_send(session, lost_lead_atom::value, why);
        // Its projector nodes see the bus go down and dial the leader.
        caf::anon_send_exit(bus, caf::exit_reason::user_shutdown);
        break;
    }
  };
  result.keeper = std::make_unique<lease_keeper>(std::move(lead.lease), lead.taken_at,
                                                 std::move(confirmed), on_change);
  return result;
}

} // namespace bus::node
