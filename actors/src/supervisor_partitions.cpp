#include <algorithm>
#include <memory>
#include <optional>

#include <caf/all.hpp>

#include "bus/errc.hpp"
#include "bus/log.hpp"
#include "bus/partitions.hpp"
#include "internal/partitioned.hpp"
#include "internal/restarts.hpp"
#include "internal/shared_pauses.hpp"

namespace bus::internal {

using actors::model_snapshot;
using actors::model_state;
using actors::projector_status;
using actors::supervisor_actor;
using actors::supervisor_state;

std::vector<model_spec> expand_partitions(supervisor_state& st,
                                          std::vector<model_spec> specs) {
  std::vector<model_spec> result;
  for (auto& spec : specs) {
    if (spec.partitions > 1) {
      // A throwaway model says whether it can be partitioned at all, and
      // whether its snapshots are rows that merge (factories are called for
      // every restart anyway).
      auto probe = spec.make ? spec.make() : nullptr;
      if (!probe || !probe->key_local()) {
        // Its queries would go to the partition of their key, its events
        // to the partitions of theirs: wrong answers. Whole, it is right.
        BUS_LOG(log_level::error, "supervisor",
                "read model '" << spec.name << "' runs whole, not as "
                               << spec.partitions
                               << " partitions: it is not key-local "
                                  "(read_model::key_local)");
        spec.partitions = 1;
        result.push_back(std::move(spec));
        continue;
      }
      auto& p = st.partitioned[spec.name];
      p.count = spec.partitions;
      p.form = probe->track_changes() ? supervisor_state::snapshot_form::rows
                                      : supervisor_state::snapshot_form::whole;
    }
    for (auto& part : partition_specs(spec))
      result.push_back(std::move(part));
  }
  return result;
}

std::uint32_t partitions_of(const supervisor_state& st, const std::string& model) {
  auto i = st.partitioned.find(model);
  return i == st.partitioned.end() ? 0 : i->second.count;
}

bool stale_partition(const supervisor_state& st, std::string_view name) {
  auto part = split_partition_name(name);
  if (!part)
    return false;
  auto model = std::string{part->model};
  if (auto n = partitions_of(st, model))
    return part->index >= n;
  return std::any_of(st.slots.begin(), st.slots.end(),
                     [&](const auto& s) { return s.spec.name == model; });
}

std::string partition_for(const std::string& model, std::uint32_t n,
                          const std::string& key) {
  return partition_name(model, partition_of(key, n));
}

caf::error name_a_partition(const std::string& model, std::uint32_t n,
                            const std::string& what) {
  return make_error(errc::precondition_failed,
                    "read model '" + model + "' runs as " + std::to_string(n)
                      + " partitions: " + what + " one of them, '" + model + "#0' to '"
                      + model + "#" + std::to_string(n - 1) + "'");
}

caf::error refuse_partitioned_shadow(const supervisor_state& st,
                                     const model_spec& spec) {
  auto whole = std::string{model_of(spec.name)};
  if (partitions_of(st, whole) == 0 && spec.partitions <= 1)
    return {};
  return make_error(errc::precondition_failed,
                    "read model '" + whole
                      + "': a blue/green rebuild of a partitioned model is not "
                        "supported; rebuild it in place (every partition rebuilds)");
}

std::vector<std::uint32_t> local_partitions(const supervisor_state& st,
                                            const std::string& model, std::uint32_t n) {
  std::vector<std::uint32_t> result;
  for (std::uint32_t i = 0; i < n; ++i) {
    auto name = partition_name(model, i);
    for (auto& s : st.slots)
      if (s.spec.name == name && s.where == supervisor_state::placement::here)
        result.push_back(i);
  }
  return result;
}

void assign(supervisor_ptr self, const std::string& model,
            const std::vector<std::uint32_t>& mine,
            const std::vector<actors::partition_pause>& pauses) {
  using placement = supervisor_state::placement;
  using sharing = supervisor_state::sharing;
  auto& st = self->state;
  auto n = partitions_of(st, model);
  if (n == 0) {
    BUS_LOG(log_level::warning, "supervisor",
            "the bus assigned partitions of read model '"
              << model << "', which is not partitioned here: ignored");
    return;
  }
  // The first assignment since it (re)attached: the bus's pauses hold for
  // the partitions that stayed here too, and their projectors, held back,
  // are rebound now.
  auto& group = st.partitioned.at(model);
  auto was = group.shared;
  group.shared = sharing::shared;
  for (std::size_t i = 0; i < st.slots.size(); ++i) {
    auto& s = st.slots[i];
    auto ref = split_partition_name(s.spec.name);
    if (!ref || ref->model != model)
      continue;
    bool assigned = std::find(mine.begin(), mine.end(), ref->index) != mine.end();
    auto theirs = std::find_if(pauses.begin(), pauses.end(),
                               [&](auto& x) { return x.partition == ref->index; });
    auto known = assigned && theirs != pauses.end();
    if (was == sharing::joining && assigned && s.where == placement::here && s.handle)
      self->send(s.handle, actors::rebind_atom::value,
                 caf::actor_cast<caf::actor>(st.bus));
    if (known && (was != sharing::shared || s.where != placement::here))
      adopt_pause(self, i, *theirs);
    else if (assigned && theirs == pauses.end())
      // The bus does not know it (it restarted): this node's pause holds,
      // and moves with the partition from now on.
      report_pause(self, s.spec.name, s.wanted, s.frozen_at);
    switch (s.where) {
      case placement::here:
        if (assigned)
          break;
        if (s.handle) {
          s.where = placement::leaving;
          self->send_exit(s.handle, caf::exit_reason::user_shutdown);
        } else {
          // Down (restarting, failed): a timer pending for it is void.
          s.where = placement::elsewhere;
          s.state = model_state::stopped;
          ++s.generation;
        }
        break;
      case placement::leaving:
        if (assigned)
          s.where = placement::returning;
        break;
      case placement::returning:
        if (!assigned)
          s.where = placement::leaving;
        break;
      case placement::elsewhere:
        if (assigned) {
          s.where = placement::here;
          s.restarts = 0;
          s.last_error.clear();
          start(self, i);
        }
        break;
    }
  }
}

namespace {

// The answers of a request spread over a model's partitions.
template <class T>
struct gathering {
  caf::typed_response_promise<T> promise;
  std::vector<T> answers;
  std::size_t left = 0;
  caf::error failure;
};

// Sends `request(self, partition_name)` for each partition; delivers
// `combine(answers)` once every partition answered, or the first error.
template <class T, class Request, class Combine>
caf::result<T> gather(supervisor_ptr self, const std::string& model, std::uint32_t n,
                      Request request, Combine combine) {
  // Only the partitions that run here: of a model shared with other nodes,
  // the others are theirs.
  auto parts = local_partitions(self->state, model, n);
  if (parts.empty())
    return make_error(errc::model_unavailable,
                      "no partition of read model '" + model
                        + "' runs on this node: the nodes that share it run them all");
  auto g = std::make_shared<gathering<T>>();
  g->promise = self->make_response_promise<T>();
  g->left = parts.size();
  auto settle = [g, combine] {
    if (--g->left > 0)
      return;
    if (g->failure) {
      g->promise.deliver(std::move(g->failure));
      return;
    }
    caf::expected<T> combined = combine(g->answers);
    if (combined)
      g->promise.deliver(std::move(*combined));
    else
      g->promise.deliver(std::move(combined.error()));
  };
  for (auto i : parts)
    request(partition_name(model, i))
      .then(
        [g, settle](T& x) {
          g->answers.push_back(std::move(x));
          settle();
        },
        [g, settle](caf::error& err) {
          if (!g->failure)
            g->failure = std::move(err);
          settle();
        });
  return g->promise;
}

} // namespace

projector_status combine_statuses(const std::string& model,
                                  std::vector<projector_status>& parts) {
  auto behind = std::min_element(parts.begin(), parts.end(), [](auto& x, auto& y) {
    return x.checkpoint < y.checkpoint;
  });
  auto result = *behind;
  result.model = model;
  result.applied = result.skipped = result.ignored = result.replayed = 0;
  result.parked = result.mailbox = 0;
  for (auto& p : parts) {
    result.applied += p.applied;
    result.skipped += p.skipped;
    result.ignored += p.ignored;
    result.replayed += p.replayed;
    result.parked += p.parked;
    result.mailbox += p.mailbox;
  }
  return result;
}

caf::result<actors::query_result> query_partition(supervisor_ptr self,
                                                  const std::string& model,
                                                  std::uint32_t n, std::string key) {
  auto rp = self->make_response_promise<actors::query_result>();
  auto me = caf::actor_cast<supervisor_actor>(self);
  auto part = partition_for(model, n, key);
  auto part_key = key;
  self
    ->request(me, caf::infinite, actors::query_atom::value, std::move(part),
              std::move(key))
    .then(
      [rp, model](actors::query_result& x) mutable {
        x.model = model;
        rp.deliver(std::move(x));
      },
      [rp, model, key = part_key](caf::error& err) mutable {
        // A missing key is the model's answer: name the model. Other
        // errors (a partition restarting) name the partition on purpose.
        if (code_of(err) == errc::no_such_key)
          err = make_error(errc::no_such_key,
                           "read model '" + model + "' has no key '" + key + "'");
        rp.deliver(std::move(err));
      });
  return rp;
}

caf::result<projector_status> steer_partitions(supervisor_ptr self,
                                               const std::string& model,
                                               std::uint32_t n,
                                               partition_request what) {
  auto me = caf::actor_cast<supervisor_actor>(self);
  auto request = [self, me, what](std::string name) {
    switch (what) {
      case partition_request::pause:
        return self->request(me, caf::infinite, actors::pause_atom::value,
                             std::move(name));
      case partition_request::resume:
        return self->request(me, caf::infinite, actors::resume_atom::value,
                             std::move(name));
      case partition_request::rebuild:
        return self->request(me, caf::infinite, actors::rebuild_atom::value,
                             std::move(name));
      case partition_request::restart:
        break;
    }
    return self->request(me, caf::infinite, actors::restart_atom::value,
                         std::move(name));
  };
  return gather<projector_status>(
    self, model, n, request,
    [self, model,
     what](std::vector<projector_status>& parts) -> caf::expected<projector_status> {
      // Kept under the model's name too: the whole model stays paused
      // across restarts however many partitions it runs as then. (Each
      // partition kept its own, and told the bus, before it answered.)
      caf::error refused;
      if (what == partition_request::pause)
        refused = record_intent(self, model, supervisor_state::intent::pause,
                                std::nullopt);
      else if (what == partition_request::resume)
        refused = record_intent(self, model, supervisor_state::intent::run,
                                std::nullopt);
      if (refused)
        return refused;
      return combine_statuses(model, parts);
    });
}

caf::result<model_snapshot>
snapshot_partitions(supervisor_ptr self, const std::string& model, std::uint32_t n) {
  if (self->state.partitioned.at(model).form != supervisor_state::snapshot_form::rows)
    return make_error(errc::precondition_failed,
                      "read model '" + model + "' runs as " + std::to_string(n)
                        + " partitions whose snapshots do not merge (it does not "
                          "track its changes by key): ask for each partition's, '"
                        + model + "#0' to '" + model + "#" + std::to_string(n - 1)
                        + "'");
  auto me = caf::actor_cast<supervisor_actor>(self);
  auto request = [self, me](std::string name) {
    return self->request(me, caf::infinite, actors::snapshot_atom::value,
                         std::move(name));
  };
  auto combine =
    [model](std::vector<model_snapshot>& parts) -> caf::expected<model_snapshot> {
    model_snapshot result;
    result.model = model;
    result.checkpoint = parts.empty() ? 0 : parts.front().checkpoint;
    auto& merged = result.state.emplace_object();
    for (auto& p : parts) {
      result.checkpoint = std::min(result.checkpoint, p.checkpoint);
      auto* obj = p.state.if_object();
      if (obj == nullptr)
        return make_error(errc::precondition_failed, "read model '" + model
                                                       + "': a partition's snapshot is "
                                                         "not an object of keys");
      for (auto& kv : *obj)
        merged[kv.key()] = std::move(kv.value());
    }
    return result;
  };
  return gather<model_snapshot>(self, model, n, request, combine);
}

} // namespace bus::internal
