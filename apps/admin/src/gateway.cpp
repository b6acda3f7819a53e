#include "gateway.hpp"

#include <algorithm>
#include <memory>

#include <caf/all.hpp>

#include "bus/admin/bodies.hpp"
#include "bus/admin/health.hpp"
#include "bus/admin/metrics.hpp"
#include "bus/errc.hpp"

namespace bus::admin {

namespace {

using namespace actors;
using self_ptr = gateway_actor::stateful_pointer<gateway_state>;
using reply_fn = std::function<void(answer)>;

struct node_handles {
  bus_actor bus;
  supervisor_actor supervisor;
};

node_kind kind_of(const gateway_config& config) {
  return config.connector ? node_kind::projector : node_kind::bus;
}

caf::duration timeout_of(self_ptr self) {
  return caf::duration{self->state.config.timeout};
}

// The answer to a request of kind `kind` that the node could not serve:
// its error, but health always answers its own body (a node that cannot
// tell is not healthy).
answer unanswered(route_kind kind, const caf::error& err) {
  if (kind != route_kind::health)
    return error_answer(err);
  health_verdict verdict;
  verdict.healthy = false;
  auto why = context_of(err);
  verdict.reason = "the node could not report its models: "
                   + (why.empty() ? caf::to_string(err) : why);
  return json_answer(render_health(verdict, {}), 503);
}

// Calls `f` with the node's actors; on a projector node the connector says
// what they are now.
template <class F>
void with_handles(self_ptr self, route_kind kind, const reply_fn& reply, F f) {
  auto& config = self->state.config;
  if (!config.connector) {
    f(node_handles{config.bus, config.supervisor});
    return;
  }
  self->request(config.connector, timeout_of(self), handles_atom::value)
    .then(
      [kind, reply, f](supervisor_actor& sup, bus_actor& bus) {
        if (!sup) {
          reply(unanswered(kind, make_error(errc::model_unavailable,
                                            "the node has not reached its bus yet: "
                                            "its read models start once it has")));
          return;
        }
        f(node_handles{std::move(bus), std::move(sup)});
      },
      [kind, reply](caf::error& err) { reply(unanswered(kind, err)); });
}

// Asks for the bus's status and then every model's, and calls `done` with
// both, or `failed` with why not. On a projector node the bus is remote:
// it gets a shorter deadline, and when it does not answer, its status as
// last seen stands in (the models' own status is what matters there).
template <class Done, class Failed>
void fetch_status(self_ptr self, const node_handles& h, Done done, Failed failed) {
  auto models = [self, h, done, failed](bus_status bus) {
    self->request(h.supervisor, timeout_of(self), status_atom::value)
      .then([done, bus](std::vector<projector_status>& xs) { done(bus, xs); },
            [failed](caf::error& err) { failed(err); });
  };
  if (kind_of(self->state.config) == node_kind::bus) {
    self->request(h.bus, timeout_of(self), status_atom::value)
      .then([models](bus_status& bus) { models(bus); },
            [failed](caf::error& err) { failed(err); });
    return;
  }
  if (!h.bus) {
    models(self->state.last_bus);
    return;
  }
  auto deadline = std::min(self->state.config.timeout, std::chrono::milliseconds{2000});
  self->request(h.bus, caf::duration{deadline}, status_atom::value)
    .then(
      [self, models](bus_status& bus) {
        self->state.last_bus = bus;
        models(bus);
      },
      [self, models](caf::error&) { models(self->state.last_bus); });
}

void serve_status(self_ptr self, const node_handles& h, route_kind kind,
                  const reply_fn& reply) {
  auto node = kind_of(self->state.config);
  auto& lease_of = self->state.config.lease;
  auto lead = lease_of ? lease_of() : std::nullopt;
  if (kind == route_kind::health && lead && lead->state == lead_state::lost) {
    // Its bus is stopped: the lease says all there is.
    health_verdict verdict;
    judge_lease(lead, verdict);
    reply(json_answer(render_health(verdict, {}), 503));
    return;
  }
  fetch_status(
    self, h,
    [node, kind, reply, lead](const bus_status& bus,
                              const std::vector<projector_status>& xs) {
      switch (kind) {
        case route_kind::health: {
          auto verdict = judge_health(xs);
          if (node == node_kind::bus)
            judge_store(bus, verdict);
          judge_lease(lead, verdict);
          reply(json_answer(render_health(verdict, xs), verdict.healthy ? 200 : 503));
          break;
        }
        case route_kind::metrics: {
          auto result = json_answer(render_metrics(node, bus, xs, lead));
          result.content_type = "text/plain; version=0.0.4; charset=utf-8";
          reply(std::move(result));
          break;
        }
        default:
          reply(json_answer(render_status(node, bus, xs, lead)));
      }
    },
    [kind, reply](const caf::error& err) { reply(unanswered(kind, err)); });
}

// Fills `page` from the bus, asking for about as many events as still fit
// (one at first, then by the size of those taken), until it is full, holds
// `limit` events or the log has no more: a page of large events never pulls
// `limit` of them into memory to send a few.
void fill_page(self_ptr self, const node_handles& h, std::shared_ptr<events_page> page,
               std::uint32_t limit, const reply_fn& reply) {
  auto left = limit - static_cast<std::uint32_t>(page->size());
  auto ask = static_cast<std::uint32_t>(std::min<std::size_t>(left, page->room_for()));
  self->request(h.bus, timeout_of(self), replay_atom::value, page->next(), ask)
    .then(
      [self, h, page, limit, ask, reply](event_batch& events) {
        for (auto& e : events)
          if (!page->add(e))
            break;
        // Fewer than asked: at the head, or where the store's chunks end.
        if (!page->full() && page->size() < limit && events.size() == ask) {
          fill_page(self, h, page, limit, reply);
          return;
        }
        // The head after the page: it is never below the page's last seq.
        self->request(h.bus, timeout_of(self), head_atom::value)
          .then([page,
                 reply](std::uint64_t head) { reply(json_answer(page->render(head))); },
                [reply](caf::error& err) { reply(error_answer(err)); });
      },
      [reply](caf::error& err) { reply(error_answer(err)); });
}

void serve_events(self_ptr self, const node_handles& h, const route& r,
                  const reply_fn& reply) {
  if (kind_of(self->state.config) != node_kind::bus) {
    reply(error_answer(error_code::not_found,
                       "a projector node keeps no log: ask the bus node's /events"));
    return;
  }
  fill_page(self, h, std::make_shared<events_page>(r.from), r.limit, reply);
}

void serve_model(self_ptr self, const node_handles& h, const route& r,
                 const reply_fn& reply) {
  auto timeout = timeout_of(self);
  auto on_error = [reply](caf::error& err) { reply(error_answer(err)); };
  auto on_list = [reply, with_done = r.kind != route_kind::parked](parked_list& xs) {
    reply(json_answer(render_parked(xs, with_done)));
  };
  auto on_status = [reply](projector_status& s) {
    reply(json_answer(render_lifecycle(s)));
  };
  auto& sup = h.supervisor;
  switch (r.kind) {
    case route_kind::parked:
      self->request(sup, timeout, parked_atom::value, r.model).then(on_list, on_error);
      return;
    case route_kind::retry_parked:
      self->request(sup, timeout, unpark_atom::value, r.model, r.seq)
        .then(on_list, on_error);
      return;
    case route_kind::discard_parked:
      self->request(sup, timeout, drop_parked_atom::value, r.model, r.seq)
        .then(on_list, on_error);
      return;
    default:
      break;
  }
  switch (r.lifecycle) {
    case lifecycle_kind::pause:
      self->request(sup, timeout, pause_atom::value, r.model).then(on_status, on_error);
      break;
    case lifecycle_kind::resume:
      self->request(sup, timeout, resume_atom::value, r.model)
        .then(on_status, on_error);
      break;
    case lifecycle_kind::rebuild:
      self->request(sup, timeout, rebuild_atom::value, r.model)
        .then(on_status, on_error);
      break;
    case lifecycle_kind::restart:
      self->request(sup, timeout, restart_atom::value, r.model)
        .then(on_status, on_error);
      break;
  }
}

} // namespace

gateway_actor::behavior_type
gateway_impl(gateway_actor::stateful_pointer<gateway_state> self,
             gateway_config config) {
  self->state.config = std::move(config);
  self->set_default_handler(caf::drop);
  return {
    [self](admin_call& call) {
      auto r = std::move(call.what);
      auto reply = std::move(call.reply);
      with_handles(self, r.kind, reply, [self, r, reply](const node_handles& h) {
        switch (r.kind) {
          case route_kind::status:
          case route_kind::health:
          case route_kind::metrics:
            serve_status(self, h, r.kind, reply);
            break;
          case route_kind::events:
            serve_events(self, h, r, reply);
            break;
          case route_kind::file:
            // Served by the HTTP thread; never sent here.
            reply(error_answer(error_code::not_found, "no such path"));
            break;
          default:
            serve_model(self, h, r, reply);
        }
      });
    },
  };
}

} // namespace bus::admin
