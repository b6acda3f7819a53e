#include "bus/actors/supervisor.hpp"

#include <iostream>
#include <type_traits>

#include <caf/all.hpp>

#include "bus/errc.hpp"
#include "internal/blue_green.hpp"

namespace bus::actors {

namespace {

using self_ptr = supervisor_actor::stateful_pointer<supervisor_state>;

void start(self_ptr self, std::size_t index) {
  auto& st = self->state;
  auto& s = st.slots[index];
  s.handle = self->spawn(projector_impl, st.bus, s.spec, st.options);
  self->monitor(s.handle);
  s.state = "running";
}

std::string describe(const caf::error& reason) {
  if (code_of(reason) != errc::none)
    return context_of(reason);
  return caf::to_string(reason);
}

void on_down(self_ptr self, const caf::down_msg& dm) {
  if (internal::blue_green_down(self, dm))
    return;
  auto& st = self->state;
  for (std::size_t i = 0; i < st.slots.size(); ++i) {
    auto& s = st.slots[i];
    if (!s.handle || s.handle.address() != dm.source)
      continue;
    s.handle = nullptr;
    if (!dm.reason || dm.reason == caf::exit_reason::user_shutdown) {
      s.state = "stopped";
      return;
    }
    s.last_error = describe(dm.reason);
    auto now = self->clock().now();
    while (!s.recent.empty() && now - s.recent.front() > st.policy.restart_window)
      s.recent.pop_front();
    if (s.recent.size() >= st.policy.max_restarts) {
      s.state = "failed";
      std::cerr << "supervisor: read model '" << s.spec.name
                << "' stays down after " << s.restarts
                << " restarts: " << s.last_error << std::endl;
      return;
    }
    auto delay = backoff_delay(st.policy, s.recent.size());
    s.recent.push_back(now);
    s.state = "restarting";
    ++s.generation;
    std::cerr << "supervisor: read model '" << s.spec.name << "' failed ("
              << s.last_error << "); restarting in "
              << std::chrono::duration_cast<std::chrono::milliseconds>(delay)
                   .count()
              << " ms" << std::endl;
    self->delayed_send(self, delay, restart_atom::value,
                       static_cast<std::uint64_t>(i), s.generation);
    return;
  }
}

caf::error unavailable(const supervisor_state::slot& s) {
  return make_error(errc::model_unavailable,
                    "read model '" + s.spec.name + "' is " + s.state
                      + (s.last_error.empty() ? "" : ": " + s.last_error));
}

// Asks every live projector `atom` (status, or ready) and answers with all
// their statuses in config order; slots without a projector report theirs.
// Status also reports blue/green shadows and kept projectors after them.
template <class Atom>
caf::result<std::vector<projector_status>> collect(self_ptr self, Atom atom) {
  auto& st = self->state;
  std::vector<internal::blue_green_entry> extra;
  if constexpr (std::is_same_v<Atom, status_atom>)
    extra = internal::blue_green_entries(st);
  struct collector {
    caf::typed_response_promise<std::vector<projector_status>> promise;
    std::vector<projector_status> result;
    std::size_t remaining;
  };
  auto c = std::make_shared<collector>();
  c->promise = self->make_response_promise<std::vector<projector_status>>();
  c->result.resize(st.slots.size() + extra.size());
  c->remaining = c->result.size() + 1;
  auto done_one = [c] {
    if (--c->remaining == 0)
      c->promise.deliver(std::move(c->result));
  };
  for (std::size_t i = 0; i < st.slots.size(); ++i) {
    auto& s = st.slots[i];
    auto& out = c->result[i];
    out.model = s.spec.name;
    out.state = s.state;
    out.restarts = s.restarts;
    out.last_error = s.last_error;
    if (!s.handle) {
      --c->remaining;
      continue;
    }
    self->request(s.handle, caf::infinite, atom)
      .then(
        [c, i, done_one](projector_status& ps) {
          auto& out = c->result[i];
          ps.restarts = out.restarts;
          ps.last_error = std::move(out.last_error);
          ps.role = std::move(out.role);
          out = std::move(ps);
          done_one();
        },
        [c, i, done_one](caf::error&) {
          c->result[i].state = "restarting";
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
    self->request(extra[j].handle, caf::infinite, status_atom::value)
      .then(
        [c, i, done_one](projector_status& ps) {
          auto& out = c->result[i];
          ps.restarts = out.restarts;
          ps.last_error = std::move(out.last_error);
          ps.role = std::move(out.role);
          if (out.state == "switching")
            ps.state = out.state;
          out = std::move(ps);
          done_one();
        },
        [done_one](caf::error&) { done_one(); });
  }
  auto promise = c->promise;
  done_one();
  return promise;
}

// Delegates to the model's live projector, or answers why there is none.
template <class T, class... Ts>
caf::result<T> forward(self_ptr self, caf::expected<projector_actor> target,
                       Ts&&... xs) {
  if (!target)
    return target.error();
  return self->delegate(*target, std::forward<Ts>(xs)...);
}

} // namespace

caf::timespan backoff_delay(const supervision_policy& policy, std::size_t n) {
  auto delay = policy.initial_backoff;
  for (std::size_t i = 0; i < n && delay < policy.max_backoff; ++i)
    delay *= 2;
  return std::min(delay, policy.max_backoff);
}

supervisor_actor::behavior_type
supervisor_impl(supervisor_actor::stateful_pointer<supervisor_state> self,
                bus_actor bus, std::vector<model_spec> specs,
                supervision_policy policy, projector_options options) {
  auto& st = self->state;
  st.bus = std::move(bus);
  st.policy = policy;
  st.options = options;
  self->set_default_handler(caf::drop);
  for (auto& spec : specs) {
    st.slots.emplace_back();
    st.slots.back().spec = std::move(spec);
  }
  for (std::size_t i = 0; i < st.slots.size(); ++i)
    start(self, i);
  self->set_down_handler([self](caf::down_msg& dm) { on_down(self, dm); });
  self->set_exit_handler([self](caf::exit_msg& em) {
    for (auto& s : self->state.slots)
      if (s.handle)
        self->send_exit(s.handle, em.reason);
    internal::stop_blue_green(self, em.reason);
    self->quit(em.reason);
  });
  // The live projector of `model`, or why there is none.
  auto route = [self](const std::string& model) -> caf::expected<projector_actor> {
    for (auto& s : self->state.slots) {
      if (s.spec.name != model)
        continue;
      if (!s.handle)
        return unavailable(s);
      return s.handle;
    }
    return make_error(errc::no_such_model, "no read model named '" + model + "'");
  };
  return {
    [self, route](query_atom, std::string& model, std::string& key) {
      return forward<query_result>(self, route(model), query_atom::value,
                                   std::move(key));
    },
    [self, route](snapshot_atom, std::string& model) {
      return forward<model_snapshot>(self, route(model), snapshot_atom::value);
    },
    [self, route](pause_atom, std::string& model) {
      return forward<projector_status>(self, route(model), pause_atom::value);
    },
    [self, route](resume_atom, std::string& model) {
      return forward<projector_status>(self, route(model), resume_atom::value);
    },
    [self, route](rebuild_atom, std::string& model) {
      return forward<projector_status>(self, route(model), rebuild_atom::value);
    },
    [self](shadow_atom, model_spec& spec, bool await) {
      return internal::start_shadow(self, std::move(spec), await);
    },
    [self](rollback_atom, std::string& model) {
      return internal::roll_back(self, model);
    },
    [self](discard_atom, std::string& model) {
      return internal::discard(self, model);
    },
    [self](restart_atom, shadow_atom, std::uint64_t index,
           std::uint64_t generation) {
      internal::restart_shadow(self, index, generation);
    },
    [self](status_atom) { return collect(self, status_atom::value); },
    [self](ready_atom) { return collect(self, ready_atom::value); },
    [self](restart_atom, std::uint64_t index, std::uint64_t generation) {
      auto& st = self->state;
      if (index >= st.slots.size())
        return;
      auto& s = st.slots[index];
      if (s.generation != generation || s.state != "restarting")
        return;
      ++s.restarts;
      start(self, index);
    },
  };
}

} // namespace bus::actors
