#include "node_startup.hpp"

#include <cstdint>

#include <caf/all.hpp>

#include "await_models.hpp"
#include "bus/log.hpp"
#include "catch_up.hpp"

namespace bus::node {

bool wait_for_start(caf::scoped_actor& self, const node_startup& start) {
  // Read nothing before every projector is registered with the bus and
  // caught up: an event published earlier would reach no read model in time
  // for its reply.
  app::catch_up_options catch_up;
  catch_up.patience = start.patience;
  catch_up.source = "bus-node";
  catch_up.restores = start.restores;
  auto started = app::wait_for_catch_up(self, start.supervisor, start.bus, catch_up);
  if (started.outcome != app::catch_up_outcome::caught_up) {
    BUS_LOG(log_level::error, "bus-node",
            "the read models made no progress for "
              << start.patience.count() << " s while catching up (" << started.progress
              << "); giving up (--startup-timeout, 0: no limit)");
    return false;
  }
  if (!start.awaited.empty()) {
    auto awaited = await_models(self, start.supervisor, start.awaited,
                                catch_up.patience);
    if (awaited.outcome != await_outcome::ready) {
      std::string missing;
      for (auto& name : awaited.missing)
        missing += (missing.empty() ? "" : ", ") + name;
      BUS_LOG(log_level::error, "bus-node",
              "read models " << missing << " did not attach within "
                             << start.patience.count()
                             << " s (--await-models, --startup-timeout)");
      return false;
    }
  }
  if (start.commands) {
    // Reading the log for the streams' versions: commands wait for it anyway,
    // this only says how many streams there are.
    self->request(start.commands, caf::infinite, actors::ready_atom::value)
      .receive(
        [&](std::uint64_t known) {
          BUS_LOG(log_level::info, "bus-node",
                  "the command side runs " << start.aggregate_types
                                           << " aggregate type(s) on " << known
                                           << " stream(s) from the log");
        },
        [&](caf::error& err) {
          BUS_LOG(log_level::error, "bus-node",
                  "the command side did not start: " << self->system().render(err));
        });
  }
  return true;
}

} // namespace bus::node
