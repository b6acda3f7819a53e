#include "internal/supervisor_slots.hpp"

#include <set>
#include <string>
#include <utility>

#include <caf/all.hpp>

#include "bus/errc.hpp"
#include "bus/lifecycle_store.hpp"
#include "bus/log.hpp"
#include "bus/partitions.hpp"

namespace bus::internal {

using actors::model_state;
using actors::supervisor_state;

void make_slots(supervisor_ptr self, std::vector<model_spec> specs) {
  auto& st = self->state;
  // Specs a configuration file would have refused (config.cpp) get a slot
  // that stays failed, saying why, rather than 5,000 projectors or two
  // models answering under one name.
  std::vector<std::string> refused;
  std::set<std::string> names;
  for (auto& spec : specs) {
    auto& why = refused.emplace_back();
    if (spec.partitions > max_partitions) {
      why = "it asks for " + std::to_string(spec.partitions)
            + " partitions; a model has 1 to " + std::to_string(max_partitions);
      spec.partitions = 1;
    }
    if (!names.insert(spec.name).second)
      why = "a second read model named '" + spec.name + "' (names are unique on a bus)";
  }
  for (std::size_t i = 0; i < specs.size(); ++i)
    for (auto& spec : expand_partitions(st, {std::move(specs[i])})) {
      auto& s = st.slots.emplace_back();
      s.spec = std::move(spec);
      if (!refused[i].empty()) {
        s.state = model_state::failed;
        s.last_error = "not started: " + refused[i];
        BUS_LOG(log_level::error, "supervisor",
                "read model '" << s.spec.name << "' " << s.last_error);
      }
    }
  if (st.options.placement != actors::partition_placement::by_bus)
    return;
  // The bus assigns the partitions among the nodes that share the model: a
  // partition runs here once assigned, paused as the bus has it (another
  // node may have paused or resumed it since this node last ran it).
  for (auto& entry : st.partitioned)
    entry.second.shared = supervisor_state::sharing::joining;
  for (auto& s : st.slots)
    if (s.state != model_state::failed
        && partitions_of(st, std::string{model_of(s.spec.name)}) > 0) {
      s.where = supervisor_state::placement::elsewhere;
      s.state = model_state::stopped;
    }
}

// Opens the store of pauses, if any, and marks the models paused there.
void restore_pauses(supervisor_ptr self) {
  auto& st = self->state;
  if (st.options.lifecycle_path.empty())
    return;
  auto opened = lifecycle_store::open(st.options.lifecycle_path,
                                      st.options.lifecycle_fence);
  if (!opened) {
    BUS_LOG(log_level::error, "supervisor",
            "pauses will not survive a restart: " << context_of(opened.error()));
    return;
  }
  st.lifecycle = std::move(*opened);
  auto paused = st.lifecycle->pauses();
  if (!paused) {
    BUS_LOG(log_level::error, "supervisor", context_of(paused.error()));
    return;
  }
  for (auto& [name, frozen_at] : *paused) {
    // A partition's own row; or the whole model's, which pauses each of its
    // partitions however many it runs as now.
    auto found = false;
    for (auto& s : st.slots)
      if (s.spec.name == name || model_of(s.spec.name) == name) {
        found = true;
        s.wanted = supervisor_state::intent::pause;
        if (s.spec.name == name)
          s.frozen_at = frozen_at;
      }
    if (found)
      BUS_LOG(log_level::info, "supervisor",
              "read model '" << name << "' stays paused, as before the restart");
    else if (stale_partition(st, name))
      // A partition of a model that runs as fewer partitions now, or whole:
      // its row would pause some other part of the model one day.
      if (auto err = st.lifecycle->set_paused(name, false))
        BUS_LOG(log_level::error, "supervisor", context_of(err));
  }
}

} // namespace bus::internal
