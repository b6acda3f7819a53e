#include "internal/directory_pauses.hpp"

#include <algorithm>
#include <utility>

#include <caf/all.hpp>

#include "bus/errc.hpp"
#include "bus/lifecycle_store.hpp"
#include "bus/log.hpp"
#include "bus/partitions.hpp"
#include "internal/intent_not_kept.hpp"

namespace bus::internal {

using actors::partition_intent;
using actors::partition_pause;

namespace {

partition_intent on_the_wire(kept_intent x) {
  switch (x) {
    case kept_intent::run:
      break;
    case kept_intent::pause:
      return partition_intent::pause;
  }
  return partition_intent::run;
}

kept_intent in_the_store(partition_intent x) {
  switch (x) {
    case partition_intent::run:
      break;
    case partition_intent::pause:
      return kept_intent::pause;
  }
  return kept_intent::run;
}

std::string frozen_text(const partition_pause& x) {
  return x.frozen_at ? " at seq " + std::to_string(*x.frozen_at) : std::string{};
}

} // namespace

void load_directory_pauses(pauses_bus_ptr self) {
  auto& st = self->state;
  if (!st.options.directory_store)
    return;
  auto kept = st.options.directory_store->partition_intents();
  if (!kept) {
    BUS_LOG(log_level::error, "bus",
            "the pauses of shared models' partitions cannot be read, so the bus "
            "learns them from the nodes as they reattach: "
              << context_of(kept.error()));
    return;
  }
  for (auto& x : *kept) {
    auto& entry = st.shared_pauses[x.model];
    // Rows of one model share its count, unless the store was edited.
    if (entry.partitions != x.partitions)
      entry = {x.partitions, {}};
    partition_pause pause;
    pause.partition = x.partition;
    pause.intent = on_the_wire(x.intent);
    if (x.frozen_at)
      pause.frozen_at = *x.frozen_at;
    BUS_LOG(
      log_level::info, "bus",
      "partition '" << partition_name(x.model, x.partition)
                    << "': " << to_string(pause.intent) << frozen_text(pause)
                    << ", as kept before the restart, for whichever node runs it");
    entry.pauses.push_back(std::move(pause));
  }
}

const partition_pause* kept_pause(pauses_bus_ptr self, const std::string& model,
                                  std::uint32_t partitions, std::uint32_t partition) {
  auto& st = self->state;
  auto i = st.shared_pauses.find(model);
  if (i == st.shared_pauses.end())
    return nullptr;
  if (i->second.partitions != partitions) {
    BUS_LOG(log_level::warning, "bus",
            "read model '" << model << "' runs as " << partitions
                           << " partitions now, not " << i->second.partitions
                           << ": the pauses kept of its partitions no longer hold");
    st.shared_pauses.erase(i);
    if (st.options.directory_store)
      if (auto err = st.options.directory_store->forget_partition_intents(model))
        BUS_LOG(log_level::error, "bus", context_of(err));
    return nullptr;
  }
  auto& xs = i->second.pauses;
  auto j = std::find_if(xs.begin(), xs.end(), [&](const partition_pause& x) {
    return x.partition == partition;
  });
  return j == xs.end() ? nullptr : &*j;
}

caf::error keep_pause(pauses_bus_ptr self, const std::string& model,
                      std::uint32_t partitions, partition_pause pause) {
  auto& st = self->state;
  BUS_LOG(log_level::info, "bus",
          "partition '" << partition_name(model, pause.partition)
                        << "': " << to_string(pause.intent) << frozen_text(pause)
                        << ", kept for whichever node runs it");
  // Those kept for another partition count go first (kept_pause forgets
  // them, in the store too), before this one is written there.
  kept_pause(self, model, partitions, pause.partition);
  caf::error refused;
  if (auto& store = st.options.directory_store) {
    kept_partition row;
    row.model = model;
    row.partition = pause.partition;
    row.partitions = partitions;
    row.intent = in_the_store(pause.intent);
    if (pause.frozen_at)
      row.frozen_at = *pause.frozen_at;
    // Kept in memory all the same: the partition is so on its node now, and
    // this bus sends it until it stops (soon, when the fence refused it:
    // another bus node leads). The node answers the request with the error.
    if (auto err = store->keep_partition_intent(row)) {
      auto name = partition_name(model, pause.partition);
      auto fenced = store->fenced();
      BUS_LOG(log_level::error, "bus",
              "partition '" << name << "': "
                            << (fenced ? "its pause is not kept, as this bus node no "
                                         "longer leads: "
                                       : "its pause will not survive a restart of the "
                                         "bus: ")
                            << context_of(err));
      auto paused = pause.intent == partition_intent::pause;
      // Unavailable (error 11) when fenced, as every request to a bus node
      // that no longer leads.
      refused = intent_not_kept("partition '" + name
                                  + "': " + (paused ? "paused" : "resumed")
                                  + " on its node but not kept by the bus",
                                err, fenced, paused, "this bus node",
                                "after a restart of the bus node, the next node to "
                                "run the partition would");
    }
  }
  auto& entry = st.shared_pauses[model];
  entry.partitions = partitions;
  auto& xs = entry.pauses;
  auto j = std::find_if(xs.begin(), xs.end(), [&](const partition_pause& x) {
    return x.partition == pause.partition;
  });
  if (j != xs.end())
    *j = std::move(pause);
  else
    xs.push_back(std::move(pause));
  return refused;
}

} // namespace bus::internal
