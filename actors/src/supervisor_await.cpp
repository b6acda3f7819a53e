// The supervisor's waits for applied seqs (see supervisor_await.hpp).

#include "internal/supervisor_await.hpp"

#include <algorithm>
#include <chrono>

#include <caf/all.hpp>

#include "bus/errc.hpp"
#include "bus/partitions.hpp"
#include "internal/millis.hpp"
#include "internal/partitioned.hpp"

namespace bus::internal {

using namespace actors;

namespace {

using await_self = await_supervisor_ptr;
using applied_wait = supervisor_state::applied_wait;

applied_wait* find_wait(await_self self, std::uint64_t id) {
  auto& waits = self->state.applied_waits;
  auto i = waits.find(id);
  return i == waits.end() ? nullptr : &i->second;
}

std::string describe(const std::string& model, std::uint64_t checkpoint,
                     model_state state) {
  return "'" + model + "' at checkpoint " + std::to_string(checkpoint) + " ("
         + to_string(state) + ")";
}

// Asks the projector of slot `index` to watch the lowest seq a wait needs
// of it, unless it watches that one (or a lower one) already.
void watch(await_self self, std::size_t index) {
  auto& st = self->state;
  auto& s = st.slots[index];
  if (!s.handle)
    return;
  std::optional<std::uint64_t> lowest;
  for (auto& [id, w] : st.applied_waits)
    if (!w.expired
        && std::find(w.behind.begin(), w.behind.end(), index) != w.behind.end()
        && (!lowest || w.seq < *lowest))
      lowest = w.seq;
  if (!lowest || (s.watching && *s.watching <= *lowest))
    return;
  s.watching = lowest;
  self->send(s.handle, await_atom::value, *lowest);
}

// Answers wait `id` once nothing is left to learn: every model reached the
// seq, or the deadline passed and every answer is in.
void try_finish(await_self self, std::uint64_t id) {
  auto* w = find_wait(self, id);
  if (!w || !w->behind.empty() || w->pending > 0)
    return;
  auto done = std::move(*w);
  self->state.applied_waits.erase(id);
  auto by_name = [](const auto& x, const auto& y) { return x.model < y.model; };
  std::sort(done.reached.begin(), done.reached.end(), by_name);
  if (done.late.empty() && done.errors.empty()) {
    done.promise.deliver(std::move(done.reached));
    return;
  }
  std::string text;
  auto code = errc::timed_out;
  if (!done.late.empty()) {
    std::sort(done.late.begin(), done.late.end());
    text = "read models still behind seq " + std::to_string(done.seq) + " after "
           + std::to_string(millis(done.timeout)) + " ms:";
    for (std::size_t i = 0; i < done.late.size(); ++i)
      text += (i == 0 ? " " : ", ") + done.late[i];
  } else {
    code = code_of(done.errors.front());
    if (code == errc::none)
      code = errc::model_unavailable;
  }
  for (auto& err : done.errors) {
    auto why = context_of(err);
    if (why.empty())
      why = caf::to_string(err);
    text += (text.empty() ? "" : "; ") + why;
  }
  done.promise.deliver(make_error(code, std::move(text)));
}

// What a node's answer means for a wait: its checkpoints, or why not.
caf::error node_failure(const caf::error& err, const std::string& node) {
  if (code_of(err) != errc::none)
    return err;
  if (err == caf::sec::request_timeout)
    return make_error(errc::model_unavailable, "node '" + node + "' did not answer");
  return make_error(errc::model_unavailable,
                    "node '" + node + "' is unreachable: " + caf::to_string(err));
}

// Forwards wait `id` to node `n` for `model` ("" for all of its models);
// the node keeps its own deadline, so the request gets the routing timeout
// on top of it.
void ask_node(await_self self, std::uint64_t id, const node_entry& n,
              const std::string& model) {
  auto* w = find_wait(self, id);
  if (!n.supervisor) {
    auto what = model.empty() ? "its read models are" : "read model '" + model + "' is";
    w->errors.push_back(
      make_error(errc::model_unavailable,
                 what + std::string{" away: node '"} + n.node + "' is not connected"));
    return;
  }
  ++w->pending;
  auto limit = w->timeout + self->state.routing->timeout;
  self
    ->request(caf::actor_cast<supervisor_actor>(n.supervisor), limit, await_atom::value,
              w->seq, model, w->timeout)
    .then(
      [self, id](std::vector<model_checkpoint>& xs) {
        if (auto* later = find_wait(self, id)) {
          later->reached.insert(later->reached.end(), xs.begin(), xs.end());
          --later->pending;
          try_finish(self, id);
        }
      },
      [self, id, node = n.node](caf::error& err) {
        if (auto* later = find_wait(self, id)) {
          later->errors.push_back(node_failure(err, node));
          --later->pending;
          try_finish(self, id);
        }
      });
}

// A routing supervisor: asks the bus which nodes serve `model` (or every
// model of other nodes, for ""), then forwards the wait to them.
void ask_nodes(await_self self, std::uint64_t id, const std::string& model) {
  auto& st = self->state;
  ++find_wait(self, id)->pending;
  self->request(st.bus, st.routing->timeout, directory_atom::value)
    .then(
      [self, id, model](std::vector<node_entry>& nodes) {
        auto* w = find_wait(self, id);
        if (!w)
          return;
        if (model.empty()) {
          // A lost node whose partitions all moved to others has nothing
          // away.
          for (auto& n : nodes)
            if (n.supervisor || !n.models.empty())
              ask_node(self, id, n, "");
        } else {
          // Every live node that shares the model runs some of its
          // partitions: each waits for those. With none left, the model
          // is away, not unknown.
          bool shared = false;
          bool live = false;
          for (auto& x : nodes)
            for (auto& s : x.shared)
              if (s.model == model) {
                shared = true;
                if (x.supervisor) {
                  live = true;
                  ask_node(self, id, x, model);
                }
              }
          if (shared && !live)
            w->errors.push_back(make_error(errc::model_unavailable,
                                           "read model '" + model
                                             + "' is away: no node that shares it "
                                               "is connected"));
          // Otherwise the last node to attach with the model serves it
          // (as queries).
          auto n = std::find_if(nodes.rbegin(), nodes.rend(), [&](auto& x) {
            return std::find(x.models.begin(), x.models.end(), model) != x.models.end();
          });
          if (!shared) {
            if (n == nodes.rend())
              w->errors.push_back(
                make_error(errc::no_such_model, "no read model named '" + model + "'"));
            else
              ask_node(self, id, *n, model);
          }
        }
        --w->pending;
        try_finish(self, id);
      },
      [self, id](caf::error& err) {
        if (auto* w = find_wait(self, id)) {
          w->errors.push_back(
            make_error(errc::unreachable, "the bus did not say which nodes serve "
                                          "the read models: "
                                            + caf::to_string(err)));
          --w->pending;
          try_finish(self, id);
        }
      });
}

} // namespace

caf::result<std::vector<model_checkpoint>> start_wait(await_self self,
                                                      std::uint64_t seq,
                                                      const std::string& model,
                                                      caf::timespan timeout) {
  auto& st = self->state;
  std::vector<std::size_t> local;
  bool remote = false;
  if (model.empty()) {
    // Live projectors only: a blue/green shadow is not in the slots, and
    // partitions of a shared model that run on other nodes are theirs.
    for (std::size_t i = 0; i < st.slots.size(); ++i)
      if (st.slots[i].where == supervisor_state::placement::here)
        local.push_back(i);
    remote = st.routing.has_value();
  } else {
    // A partitioned model is every one of its partitions' slots.
    auto partitioned = internal::partitions_of(st, model) > 0;
    for (std::size_t i = 0; i < st.slots.size(); ++i)
      if ((st.slots[i].spec.name == model
           || (partitioned && model_of(st.slots[i].spec.name) == model))
          && st.slots[i].where == supervisor_state::placement::here)
        local.push_back(i);
    if (local.empty() && !st.routing)
      return make_error(errc::no_such_model, "no read model named '" + model + "'");
    remote = local.empty();
  }
  if (timeout < caf::timespan{0})
    return make_error(errc::invalid_config, "await_applied: negative timeout");
  auto id = ++st.last_wait;
  auto& w = st.applied_waits[id];
  w.seq = seq;
  w.timeout = timeout;
  w.behind = local;
  w.promise = self->make_response_promise<std::vector<model_checkpoint>>();
  auto promise = w.promise;
  // No deadline for a timeout too long for the clock (a year or more).
  if (timeout < std::chrono::hours{24 * 365})
    self->delayed_send(self, timeout, expire_atom::value, id);
  if (remote)
    ask_nodes(self, id, model);
  for (auto i : local)
    watch(self, i);
  try_finish(self, id); // nothing to wait for (no models)
  return promise;
}

void on_applied(await_self self, std::uint64_t checkpoint) {
  auto& st = self->state;
  auto from = self->current_sender();
  auto s = std::find_if(st.slots.begin(), st.slots.end(), [&](auto& x) {
    return x.handle && caf::actor_cast<caf::strong_actor_ptr>(x.handle) == from;
  });
  if (s == st.slots.end())
    return; // a projector replaced since: its successor was asked again
  auto index = static_cast<std::size_t>(s - st.slots.begin());
  s->watching.reset();
  if (checkpoint != s->seen_checkpoint) {
    s->seen_checkpoint = checkpoint;
    s->seen_checkpoint_timestamp = 0; // an await's answer does not say it
    s->progress_at = self->clock().now();
  }
  std::vector<std::uint64_t> touched;
  for (auto& [id, w] : st.applied_waits) {
    auto i = std::find(w.behind.begin(), w.behind.end(), index);
    if (w.expired || w.seq > checkpoint || i == w.behind.end())
      continue;
    w.behind.erase(i);
    w.reached.push_back({s->spec.name, checkpoint});
    touched.push_back(id);
  }
  for (auto id : touched)
    try_finish(self, id);
  watch(self, index); // the next wait's seq, if any
}

void expire_wait(await_self self, std::uint64_t id) {
  auto* w = find_wait(self, id);
  if (!w)
    return; // answered before its deadline
  w->expired = true;
  auto behind = std::move(w->behind);
  w->behind.clear();
  auto& st = self->state;
  for (auto index : behind) {
    auto& s = st.slots[index];
    if (!s.handle) { // restarting, failed or stopped: it says so itself
      w->late.push_back(describe(s.spec.name, s.seen_checkpoint, s.state));
      continue;
    }
    // Its checkpoint now, not the last one it pushed; within the status
    // deadline, as status does for a busy projector.
    ++w->pending;
    self->request(s.handle, caf::duration{st.policy.status_timeout}, status_atom::value)
      .then(
        [self, id](projector_status& ps) {
          auto* later = find_wait(self, id);
          if (!later)
            return;
          if (ps.checkpoint >= later->seq) // it got there just now
            later->reached.push_back({ps.model, ps.checkpoint});
          else
            later->late.push_back(describe(ps.model, ps.checkpoint, ps.state));
          --later->pending;
          try_finish(self, id);
        },
        [self, id, index](caf::error& err) {
          auto* later = find_wait(self, id);
          if (!later)
            return;
          auto& slot = self->state.slots[index];
          auto state = err == caf::sec::request_timeout ? model_state::stalled
                                                        : model_state::restarting;
          later->late.push_back(describe(slot.spec.name, slot.seen_checkpoint, state));
          --later->pending;
          try_finish(self, id);
        });
  }
  try_finish(self, id);
}

void watch_new_projector(await_self self, std::size_t index) {
  self->state.slots[index].watching.reset();
  watch(self, index);
}

void drop_waits(await_self self, const caf::error& reason) {
  auto waits = std::move(self->state.applied_waits);
  self->state.applied_waits.clear();
  for (auto& [id, w] : waits)
    w.promise.deliver(
      make_error(errc::model_unavailable,
                 "the supervisor stopped before the read models applied seq "
                   + std::to_string(w.seq) + ": " + caf::to_string(reason)));
}

} // namespace bus::internal
