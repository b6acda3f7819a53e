#include "internal/bus_directory.hpp"

#include <algorithm>
#include <set>

#include <caf/all.hpp>

#include "bus/consumer_group.hpp"
#include "bus/errc.hpp"
#include "bus/log.hpp"
#include "bus/partitions.hpp"
#include "internal/directory_pauses.hpp"

namespace bus::internal {

using actors::node_entry;
using actors::shared_model;

namespace {

bool serves_whole(const node_entry& n, const std::string& model) {
  return std::find(n.models.begin(), n.models.end(), model) != n.models.end();
}

const shared_model* shares(const node_entry& n, const std::string& model) {
  for (auto& s : n.shared)
    if (s.model == model)
      return &s;
  return nullptr;
}

// Assigns the partitions of `model` among the live nodes that share it, and
// tells each of them its part. A lost node's entry keeps none while a live
// node shares the model; with none left, the lost nodes keep the partitions
// they ran last, so that status lists them away, as a lost node's whole
// models, instead of dropping the model.
void rebalance(directory_bus_ptr self, const std::string& model) {
  auto& nodes = self->state.nodes;
  std::vector<std::string> members;
  std::uint32_t count = 0;
  for (auto& n : nodes)
    if (auto* s = shares(n, model); s != nullptr && n.supervisor) {
      members.push_back(n.node);
      count = s->partitions;
    }
  if (members.empty())
    return;
  auto owners = assign_partitions(model, count, members);
  for (auto& n : nodes) {
    if (shares(n, model) == nullptr)
      continue;
    n.models.erase(std::remove_if(n.models.begin(), n.models.end(),
                                  [&](const std::string& name) {
                                    return model_of(name) == model
                                           && split_partition_name(name);
                                  }),
                   n.models.end());
    if (!n.supervisor)
      continue;
    std::vector<std::uint32_t> mine;
    std::vector<actors::partition_pause> pauses;
    for (std::uint32_t p = 0; p < owners.size(); ++p)
      if (owners[p] == n.node) {
        mine.push_back(p);
        n.models.push_back(partition_name(model, p));
        if (auto* kept = kept_pause(self, model, count, p))
          pauses.push_back(*kept);
      }
    BUS_LOG(log_level::info, "bus",
            "node '" << n.node << "' runs " << mine.size() << " of the " << count
                     << " partitions of read model '" << model << "', shared by "
                     << members.size() << " node(s)");
    self->send(caf::actor_cast<actors::supervisor_actor>(n.supervisor),
               actors::assign_atom::value, model, std::move(mine), std::move(pauses));
  }
}

} // namespace

caf::error attach_node(directory_bus_ptr self, std::string node, caf::actor supervisor,
                       std::vector<std::string> models,
                       std::vector<shared_model> shared) {
  auto& nodes = self->state.nodes;
  // The same node (by name, or by supervisor) attaching again after a
  // reconnect or a restart is not another node; a lost node's models may be
  // taken over by another.
  auto other = [&](const node_entry& n) {
    return n.node != node && n.supervisor && n.supervisor != supervisor;
  };
  for (auto& n : nodes) {
    if (!other(n))
      continue;
    for (auto& model : models)
      if (serves_whole(n, model) || shares(n, model) != nullptr)
        return make_error(errc::precondition_failed, "read model '" + model
                                                       + "' is already served by node '"
                                                       + n.node + "'");
    for (auto& s : shared) {
      if (serves_whole(n, s.model))
        return make_error(errc::precondition_failed,
                          "read model '" + s.model
                            + "' is already served whole by node '" + n.node + "'");
      if (auto* theirs = shares(n, s.model);
          theirs && theirs->partitions != s.partitions)
        return make_error(errc::precondition_failed,
                          "read model '" + s.model + "' runs as "
                            + std::to_string(theirs->partitions)
                            + " partitions on node '" + n.node + "', not "
                            + std::to_string(s.partitions));
    }
  }
  // Models it shared before (a restart with another config) are rebalanced
  // without it too.
  std::set<std::string> touched;
  for (auto& s : shared)
    touched.insert(s.model);
  for (auto& n : nodes)
    if (n.node == node || n.supervisor == supervisor)
      for (auto& s : n.shared)
        touched.insert(s.model);
  nodes.erase(std::remove_if(nodes.begin(), nodes.end(),
                             [&](const node_entry& n) {
                               return n.node == node || n.supervisor == supervisor;
                             }),
              nodes.end());
  self->monitor(supervisor);
  nodes.push_back(
    {std::move(node), std::move(supervisor), std::move(models), std::move(shared)});
  for (auto& model : touched)
    rebalance(self, model);
  return {};
}

caf::error keep_partition_pause(directory_bus_ptr self,
                                const caf::strong_actor_ptr& sender,
                                const std::string& name,
                                actors::partition_pause pause) {
  auto ref = split_partition_name(name);
  if (!ref || !sender)
    return {};
  auto& nodes = self->state.nodes;
  auto runs_it = std::find_if(nodes.begin(), nodes.end(), [&](const node_entry& n) {
    return n.supervisor && n.supervisor == caf::actor_cast<caf::actor>(sender)
           && std::find(n.models.begin(), n.models.end(), name) != n.models.end()
           && shares(n, std::string{ref->model}) != nullptr;
  });
  if (runs_it == nodes.end())
    return {};
  pause.partition = ref->index;
  return keep_pause(self, std::string{ref->model},
                    shares(*runs_it, std::string{ref->model})->partitions,
                    std::move(pause));
}

void node_lost(directory_bus_ptr self, const caf::actor_addr& who) {
  std::set<std::string> touched;
  for (auto& n : self->state.nodes)
    if (n.supervisor && n.supervisor.address() == who) {
      n.supervisor = nullptr;
      for (auto& s : n.shared)
        touched.insert(s.model);
    }
  for (auto& model : touched)
    rebalance(self, model);
}

} // namespace bus::internal
