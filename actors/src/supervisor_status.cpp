#include "internal/supervisor_status.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <type_traits>

#include <caf/all.hpp>

#include "bus/errc.hpp"
#include "internal/blue_green.hpp"
#include "internal/health.hpp"

namespace bus::internal {

using namespace bus::actors;

namespace {

using status_self = status_supervisor_ptr;

// Statuses standing for the models of node `n` when it cannot answer.
std::vector<projector_status> absent(const node_entry& n, model_state state,
                                     const std::string& why) {
  std::vector<projector_status> result;
  for (auto& model : n.models) {
    auto& x = result.emplace_back();
    x.model = model;
    x.state = state;
    x.last_error = why;
  }
  return result;
}

} // namespace

caf::error remote_failure(const caf::error& err, const std::string& model,
                          const std::string& node, caf::timespan timeout) {
  if (code_of(err) != errc::none)
    return err;
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(timeout).count();
  if (err == caf::sec::request_timeout)
    return make_error(errc::model_unavailable, "read model '" + model + "' on node '"
                                                 + node + "' did not answer within "
                                                 + std::to_string(ms) + " ms");
  return make_error(errc::model_unavailable,
                    "read model '" + model + "' on node '" + node
                      + "' is unreachable: " + caf::to_string(err));
}

namespace {

// Adds the models of the nodes attached to the bus to a status collection:
// asks the bus's directory, then every node. A node's own status answers
// within its status_timeout; two of them here, not the routing timeout, so
// that one hung node does not make the whole status miss an operator's
// deadline (busctl's is the routing timeout's default).
template <class Atom, class Collector, class Done>
void collect_remote(status_self self, Atom atom, std::shared_ptr<Collector> c,
                    Done done_one) {
  auto timeout = std::min(self->state.routing->timeout,
                          caf::timespan{2 * self->state.policy.status_timeout});
  ++c->remaining;
  self->request(self->state.bus, timeout, directory_atom::value)
    .then(
      [self, atom, c, done_one, timeout](std::vector<node_entry>& nodes) {
        c->remote.resize(nodes.size());
        for (std::size_t k = 0; k < nodes.size(); ++k) {
          auto& n = nodes[k];
          if (!n.supervisor) {
            c->remote[k] = absent(n, model_state::away,
                                  "node '" + n.node + "' is not connected");
            continue;
          }
          ++c->remaining;
          c->remote[k] = absent(n, model_state::unreachable, "");
          self->request(caf::actor_cast<supervisor_actor>(n.supervisor), timeout, atom)
            .then(
              [c, k, done_one](std::vector<projector_status>& xs) {
                c->remote[k] = std::move(xs);
                done_one();
              },
              [c, k, n, done_one, timeout](caf::error& err) {
                using namespace std::chrono;
                auto why = err == caf::sec::request_timeout
                             ? "node '" + n.node + "' did not answer status within "
                                 + std::to_string(
                                   duration_cast<milliseconds>(timeout).count())
                                 + " ms"
                             : context_of(remote_failure(err, "*", n.node, timeout));
                for (auto& x : c->remote[k])
                  x.last_error = why;
                done_one();
              });
        }
        done_one();
      },
      [done_one](caf::error&) { done_one(); });
}

// Takes a projector's own status into `out`, keeping what only the
// supervisor knows (restarts, the last failure, the role).
void adopt(projector_status& out, projector_status ps) {
  ps.restarts = out.restarts;
  ps.last_error = std::move(out.last_error);
  ps.role = out.role;
  out = std::move(ps);
}

// Asks every live projector `atom` (status, or ready) and answers with all
// their statuses in config order; slots without a projector report theirs.
// Status also reports blue/green shadows and kept projectors after them.
template <class Atom>
caf::result<std::vector<projector_status>> collect(status_self self, Atom atom) {
  auto& st = self->state;
  std::vector<internal::blue_green_entry> extra;
  if constexpr (std::is_same_v<Atom, status_atom>)
    extra = internal::blue_green_entries(st);
  constexpr bool is_status = std::is_same_v<Atom, status_atom>;
  struct collector {
    caf::typed_response_promise<std::vector<projector_status>> promise;
    std::vector<projector_status> result;
    // The models of other nodes, in directory order (routing only).
    std::vector<std::vector<projector_status>> remote;
    // The log's head, to tell a stalled model from an idle one (status).
    std::optional<std::uint64_t> head;
    std::size_t remaining;
  };
  auto c = std::make_shared<collector>();
  c->promise = self->make_response_promise<std::vector<projector_status>>();
  c->result.resize(st.slots.size() + extra.size());
  c->remaining = c->result.size() + 1;
  auto done_one = [self, c] {
    if (--c->remaining > 0)
      return;
    if constexpr (is_status) {
      auto& state = self->state;
      auto now = self->clock().now();
      for (std::size_t i = 0; i < state.slots.size(); ++i)
        internal::judge(c->result[i], state.slots[i], c->head, now,
                        state.policy.stall_after);
    }
    // Partitions of a shared model that run on other nodes are theirs to
    // report.
    std::vector<projector_status> shown;
    auto& slots = self->state.slots;
    for (std::size_t i = 0; i < c->result.size(); ++i)
      if (i >= slots.size() || slots[i].where == supervisor_state::placement::here)
        shown.push_back(std::move(c->result[i]));
    for (auto& xs : c->remote)
      for (auto& x : xs)
        shown.push_back(std::move(x));
    c->promise.deliver(std::move(shown));
  };
  // Status never waits for one stuck model: each answer has a deadline.
  // Ready waits for catching up, however long that takes.
  caf::duration deadline = caf::infinite;
  if constexpr (is_status) {
    deadline = caf::duration{st.policy.status_timeout};
    // A lost bus (null) is not asked: a dead remote handle answers nothing
    // before the deadline, and every status would wait for it.
    if (st.bus) {
      ++c->remaining;
      self->request(st.bus, deadline, head_atom::value)
        .then(
          [c, done_one](std::uint64_t head) {
            c->head = head;
            done_one();
          },
          [done_one](caf::error&) { done_one(); });
    }
  }
  for (std::size_t i = 0; i < st.slots.size(); ++i) {
    auto& s = st.slots[i];
    auto& out = c->result[i];
    out.model = s.spec.name;
    out.state = s.state;
    out.restarts = s.restarts;
    out.last_error = s.last_error;
    out.checkpoint = s.seen_checkpoint;
    out.checkpoint_timestamp = s.seen_checkpoint_timestamp;
    if (!s.handle) {
      --c->remaining;
      continue;
    }
    self->request(s.handle, deadline, atom)
      .then(
        [self, c, i, done_one, h = s.handle](projector_status& ps) {
          auto& current = self->state.slots[i];
          if (current.handle == h)
            internal::note_progress(current, ps, self->clock().now());
          adopt(c->result[i], std::move(ps));
          done_one();
        },
        [self, c, i, done_one](caf::error& err) {
          if (err == caf::sec::request_timeout)
            internal::report_unanswered(c->result[i], self->state.slots[i],
                                        self->clock().now());
          else
            c->result[i].state = model_state::restarting;
          done_one();
        });
  }
  for (std::size_t j = 0; j < extra.size(); ++j) {
    auto i = st.slots.size() + j;
    c->result[i] = std::move(extra[j].status);
    if (!extra[j].handle) {
      --c->remaining;
      continue;
    }
    self->request(extra[j].handle, deadline, status_atom::value)
      .then(
        [c, i, done_one](projector_status& ps) {
          auto& out = c->result[i];
          // Switching in, or holding its switch (parked): the supervisor's
          // state, not the projector's.
          auto kept = out.state;
          adopt(out, std::move(ps));
          if (kept == model_state::switching || kept == model_state::parked)
            out.state = kept;
          done_one();
        },
        [c, i, done_one](caf::error& err) {
          if (err == caf::sec::request_timeout)
            c->result[i].state = model_state::stalled;
          done_one();
        });
  }
  // Ready covers this node's models only: a node starting up must not wait
  // for (or on the loss of) another node's.
  if (st.routing && std::is_same<Atom, status_atom>::value)
    collect_remote(self, atom, c, done_one);
  auto promise = c->promise;
  done_one();
  return promise;
}

} // namespace

caf::result<std::vector<projector_status>>
collect_statuses(status_supervisor_ptr self) {
  return collect(self, status_atom::value);
}

caf::result<std::vector<projector_status>> collect_ready(status_supervisor_ptr self) {
  return collect(self, ready_atom::value);
}

} // namespace bus::internal
