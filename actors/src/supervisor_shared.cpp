#include <algorithm>
#include <memory>

#include <caf/all.hpp>

#include "bus/errc.hpp"
#include "internal/shared_routing.hpp"
#include "bus/partitions.hpp"
#include "internal/supervisor_status.hpp"

namespace bus::internal {

using namespace bus::actors;

std::uint32_t shared_partitions(const std::vector<node_entry>& nodes,
                                const std::string& model) {
  for (auto& n : nodes)
    for (auto& s : n.shared)
      if (s.model == model)
        return s.partitions;
  return 0;
}

void query_shared(supervisor_ptr self, caf::typed_response_promise<query_result> rp,
                  const std::vector<node_entry>& nodes, const std::string& model,
                  std::uint32_t n, std::string key) {
  auto part = partition_name(model, partition_of(key, n));
  auto owner = std::find_if(nodes.begin(), nodes.end(), [&](const node_entry& x) {
    return x.supervisor
           && std::find(x.models.begin(), x.models.end(), part) != x.models.end();
  });
  if (owner == nodes.end()) {
    rp.deliver(make_error(errc::model_unavailable,
                          "read model '" + part
                            + "' is away: no node that shares read model '" + model
                            + "' runs it now"));
    return;
  }
  auto timeout = self->state.routing->timeout;
  self
    ->request(caf::actor_cast<supervisor_actor>(owner->supervisor), timeout,
              query_atom::value, part, key)
    .then(
      [rp, model](query_result& x) mutable {
        x.model = model;
        rp.deliver(std::move(x));
      },
      [rp, model, key, part, node = owner->node, timeout](caf::error& err) mutable {
        // A missing key is the model's answer: name the model.
        if (code_of(err) == errc::no_such_key)
          rp.deliver(make_error(errc::no_such_key,
                                "read model '" + model + "' has no key '" + key + "'"));
        else
          rp.deliver(remote_failure(err, part, node, timeout));
      });
}

void steer_shared(supervisor_ptr self, caf::typed_response_promise<projector_status> rp,
                  const std::vector<node_entry>& nodes, const std::string& model,
                  partition_request what) {
  struct gathering {
    caf::typed_response_promise<projector_status> rp;
    std::vector<projector_status> answers;
    std::size_t left = 0;
    caf::error failure;
  };
  auto g = std::make_shared<gathering>();
  g->rp = std::move(rp);
  std::vector<const node_entry*> members;
  for (auto& n : nodes)
    for (auto& s : n.shared)
      if (s.model == model && n.supervisor)
        members.push_back(&n);
  if (members.empty()) {
    g->rp.deliver(make_error(errc::model_unavailable,
                             "read model '" + model
                               + "' is away: no node that shares it is connected"));
    return;
  }
  g->left = members.size();
  auto settle = [g, model] {
    if (--g->left > 0)
      return;
    if (g->failure)
      g->rp.deliver(std::move(g->failure));
    else
      g->rp.deliver(combine_statuses(model, g->answers));
  };
  auto timeout = self->state.routing->timeout;
  for (auto* n : members) {
    auto sup = caf::actor_cast<supervisor_actor>(n->supervisor);
    auto on_answer = [g, settle](projector_status& x) {
      g->answers.push_back(std::move(x));
      settle();
    };
    auto on_error = [g, settle, model, node = n->node, timeout](caf::error& err) {
      if (!g->failure)
        g->failure = remote_failure(err, model, node, timeout);
      settle();
    };
    switch (what) {
      case partition_request::pause:
        self->request(sup, timeout, pause_atom::value, model).then(on_answer, on_error);
        break;
      case partition_request::resume:
        self->request(sup, timeout, resume_atom::value, model)
          .then(on_answer, on_error);
        break;
      case partition_request::rebuild:
        self->request(sup, timeout, rebuild_atom::value, model)
          .then(on_answer, on_error);
        break;
      case partition_request::restart:
        self->request(sup, timeout, restart_atom::value, model)
          .then(on_answer, on_error);
        break;
    }
  }
}

} // namespace bus::internal
