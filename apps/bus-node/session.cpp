#include "session.hpp"

#include <cstdio>

#include <caf/all.hpp>

#include "bus/errc.hpp"

namespace bus::node {

namespace {

using self_ptr = session_actor::stateful_pointer<session_state>;

session_state::slot& slot_at(self_ptr self, std::size_t index) {
  return self->state.slots[index - self->state.first_slot];
}

void finish(self_ptr self, std::size_t index, std::string text) {
  auto& s = slot_at(self, index);
  s.text = std::move(text);
  s.ready = true;
}

// Writes the ready prefix of the replies in one go.
void flush(self_ptr self) {
  auto& st = self->state;
  std::string out;
  while (!st.slots.empty() && st.slots.front().ready) {
    out += st.slots.front().text;
    if (st.slots.front().notify) {
      caf::anon_send(st.slots.front().notify, chunk_done_atom::value);
      st.chunks.pop_front(); // its last reply is written
    }
    st.slots.pop_front();
    ++st.first_slot;
  }
  if (!out.empty()) {
    std::fwrite(out.data(), 1, out.size(), st.options.out);
    std::fflush(st.options.out);
  }
}

void dispatch(self_ptr self);

// Renders the reply to an event: event_skipped, or read_models_updated with
// the models that `for_each_model(emit)` emits, in config order.
template <class ForEachModel>
std::string event_reply(const request& req, std::string_view id, bool skipped,
                        ForEachModel for_each_model) {
  std::string fields;
  render_field(fields, "event_id", id);
  std::string text;
  if (skipped) {
    fields += ", \"reason\": \"already_processed\"";
    render_reply(text, req, "event_skipped", fields);
    return text;
  }
  fields += ", \"updated_models\": [";
  bool first = true;
  for_each_model([&](std::string_view name) {
    if (!first)
      fields += ", ";
    first = false;
    render_string(fields, name);
  });
  fields += ']';
  render_reply(text, req, "read_models_updated", fields);
  return text;
}

// Moves the events out of a batch of event requests.
std::vector<event> take_events(std::vector<session_state::pending>& batch) {
  std::vector<event> events;
  events.reserve(batch.size());
  for (auto& p : batch)
    events.push_back(std::move(p.req->ev));
  return events;
}

// The bus refused a batch: every event of it gets the error.
void fail_batch(self_ptr self, const std::vector<session_state::pending>& batch,
                const caf::error& err) {
  auto text = context_of(err).empty() ? caf::to_string(err) : context_of(err);
  auto code = code_of(err) == errc::invalid_event    ? error_code::malformed_request
              : code_of(err) == errc::storage_failed ? error_code::abort
                                                     : error_code::crash;
  for (auto& p : batch) {
    std::string line;
    render_error(line, *p.req, code, text);
    finish(self, p.slot, std::move(line));
  }
}

// Ends a bus round trip: serve what waited for it, write what is ready.
void bus_answered(self_ptr self) {
  --self->state.publishes_in_flight;
  dispatch(self);
  flush(self);
}

void send_publish(self_ptr self, std::vector<session_state::pending> batch) {
  auto& st = self->state;
  auto events = take_events(batch);
  ++st.publishes_in_flight;
  self
    ->request(st.bus, caf::infinite, actors::publish_atom::value,
              std::move(events), true)
    .then(
      [self, batch = std::move(batch)](actors::publish_ack& ack) {
        auto& st = self->state;
        // Models on other nodes are named after the local ones, in the
        // order they first took an event.
        for (auto& m : ack.models) {
          if (st.model_index.count(m.model) == 0) {
            st.model_index.emplace(m.model, st.options.models.size());
            st.options.models.push_back(m.model);
          }
        }
        // took[j * n + m]: model m (config order) took event j.
        auto n = st.options.models.size();
        std::vector<bool> took(batch.size() * n, false);
        for (auto& m : ack.models) {
          auto i = st.model_index.find(m.model);
          if (i == st.model_index.end())
            continue;
          for (auto j : m.applied)
            took[j * n + i->second] = true;
        }
        for (std::size_t j = 0; j < batch.size(); ++j) {
          auto& outcome = ack.outcomes[j];
          auto text = event_reply(*batch[j].req, outcome.id, outcome.duplicate,
                                  [&](auto emit) {
                                    for (std::size_t m = 0; m < n; ++m)
                                      if (took[j * n + m])
                                        emit(st.options.models[m]);
                                  });
          finish(self, batch[j].slot, std::move(text));
        }
        bus_answered(self);
      },
      [self, batch](caf::error& err) {
        fail_batch(self, batch, err);
        bus_answered(self);
      });
}

// Events acknowledged but not taken: the bus settles their ids (and tells
// redeliveries of logged events) without appending them.
void send_resolve(self_ptr self, std::vector<session_state::pending> batch) {
  auto& st = self->state;
  auto events = take_events(batch);
  ++st.publishes_in_flight;
  self
    ->request(st.bus, caf::infinite, actors::resolve_atom::value,
              std::move(events))
    .then(
      [self, batch = std::move(batch)](
        std::vector<actors::publish_outcome>& outcomes) {
        for (std::size_t j = 0; j < batch.size(); ++j) {
          // Only a logged event (seq > 0) counts as processed before.
          auto skipped = outcomes[j].duplicate && outcomes[j].seq > 0;
          auto text = event_reply(*batch[j].req, outcomes[j].id, skipped,
                                  [](auto) {});
          finish(self, batch[j].slot, std::move(text));
        }
        bus_answered(self);
      },
      [self, batch](caf::error& err) {
        fail_batch(self, batch, err);
        bus_answered(self);
      });
}

// Ends a control request: its reply is `text`; later requests may go on.
void control_answered(self_ptr self, const session_state::pending& p,
                      std::string text) {
  finish(self, p.slot, std::move(text));
  self->state.control_in_flight = false;
  dispatch(self);
  flush(self);
}

// Renders the error reply of a failed control request.
std::string control_error(const session_state::pending& p, const caf::error& err) {
  auto code = code_of(err) == errc::no_such_key || code_of(err) == errc::no_such_model
                ? error_code::key_does_not_exist
              : code_of(err) == errc::not_parked ? error_code::key_does_not_exist
              : code_of(err) == errc::precondition_failed ? error_code::precondition_failed
              : code_of(err) == errc::invalid_config      ? error_code::malformed_request
                                                          : error_code::temporarily_unavailable;
  auto text = context_of(err).empty() ? caf::to_string(err) : context_of(err);
  std::string line;
  render_error(line, *p.req, code, text);
  return line;
}

void send_query(self_ptr self, session_state::pending p) {
  auto& st = self->state;
  self
    ->request(st.supervisor, caf::infinite, actors::query_atom::value,
              p.req->model, p.req->key)
    .then(
      [self, p](actors::query_result& r) {
        std::string fields;
        render_field(fields, "model", r.model);
        render_field(fields, "key", r.key);
        fields += ", ";
        render_key(fields, "value");
        render_json(fields, r.value);
        std::string text;
        render_reply(text, *p.req, "query_ok", fields);
        control_answered(self, p, std::move(text));
      },
      [self, p](caf::error& err) { control_answered(self, p, control_error(p, err)); });
}

// Renders one model's status; `extra` are the blue/green projectors of the
// same model (a shadow, a kept previous one), nested under their role.
void render_model_status(std::string& out, const actors::projector_status& s,
                         const actors::bus_status& bus,
                         const std::vector<actors::projector_status>& extra = {}) {
  auto lag = bus.head > s.checkpoint ? bus.head - s.checkpoint : 0;
  std::int64_t lag_ms = 0;
  if (lag > 0 && s.checkpoint_timestamp > 0 && bus.head_timestamp > s.checkpoint_timestamp)
    lag_ms = (bus.head_timestamp - s.checkpoint_timestamp) / 1000000;
  out += '{';
  render_key(out, "model");
  render_string(out, s.model);
  out += ", ";
  render_key(out, "state");
  render_string(out, to_string(s.state));
  out += ", \"checkpoint\": " + std::to_string(s.checkpoint);
  out += ", \"lag_events\": " + std::to_string(lag);
  out += ", \"lag_ms\": " + std::to_string(lag_ms);
  out += ", \"applied\": " + std::to_string(s.applied);
  out += ", \"skipped\": " + std::to_string(s.skipped);
  out += ", \"rebuilds\": " + std::to_string(s.rebuilds);
  out += ", \"restarts\": " + std::to_string(s.restarts);
  out += ", \"parked\": " + std::to_string(s.parked);
  out += ", \"stalled_ms\": " + std::to_string(s.stalled_ms);
  out += ", ";
  render_key(out, "last_error");
  render_string(out, s.last_error);
  for (auto& x : extra) {
    if (x.model != s.model || x.role == s.role)
      continue;
    out += ", ";
    render_key(out, to_string(x.role));
    render_model_status(out, x, bus);
  }
  out += '}';
}

void send_status(self_ptr self, session_state::pending p) {
  auto& st = self->state;
  self->request(st.bus, caf::infinite, actors::status_atom::value)
    .then(
      [self, p](actors::bus_status& bus) {
        self->request(self->state.supervisor, caf::infinite, actors::status_atom::value)
          .then(
            [self, p, bus](std::vector<actors::projector_status>& models) {
              std::string fields = "\"head\": " + std::to_string(bus.head);
              fields += ", \"read_models\": [";
              // Live projectors come first, in config order; blue/green
              // shadows and kept projectors after them.
              std::vector<actors::projector_status> extra;
              for (auto& m : models)
                if (m.role != actors::model_role::live)
                  extra.push_back(m);
              bool first = true;
              for (auto& m : models) {
                if (m.role != actors::model_role::live)
                  continue;
                if (!first)
                  fields += ", ";
                first = false;
                render_model_status(fields, m, bus, extra);
              }
              fields += ']';
              std::string text;
              render_reply(text, *p.req, "status_ok", fields);
              control_answered(self, p, std::move(text));
            },
            [self, p](caf::error& err) {
              control_answered(self, p, control_error(p, err));
            });
      },
      [self, p](caf::error& err) { control_answered(self, p, control_error(p, err)); });
}

void send_lifecycle(self_ptr self, session_state::pending p) {
  auto& st = self->state;
  auto kind = p.req->kind;
  auto reply_type = kind == request_kind::pause      ? "paused"
                    : kind == request_kind::resume   ? "resumed"
                    : kind == request_kind::rollback ? "rolled_back"
                    : kind == request_kind::discard  ? "discarded"
                    : kind == request_kind::restart  ? "restart_ok"
                    : kind == request_kind::blue_green && p.req->await_switch
                      ? "switched"
                      : "rebuilding";
  auto on_status = [self, p, reply_type](actors::projector_status& s) {
    std::string fields;
    render_field(fields, "model", s.model);
    render_field(fields, "state", to_string(s.state));
    if (p.req->kind == request_kind::blue_green)
      render_field(fields, "mode", "blue_green");
    if (p.req->kind == request_kind::discard)
      render_field(fields, "discarded", to_string(s.role));
    std::string text;
    render_reply(text, *p.req, reply_type, fields);
    control_answered(self, p, std::move(text));
  };
  auto on_error = [self, p](caf::error& err) {
    control_answered(self, p, control_error(p, err));
  };
  auto& model = p.req->model;
  switch (p.req->kind) {
    case request_kind::pause:
      self->request(st.supervisor, caf::infinite, actors::pause_atom::value, model)
        .then(on_status, on_error);
      break;
    case request_kind::resume:
      self->request(st.supervisor, caf::infinite, actors::resume_atom::value, model)
        .then(on_status, on_error);
      break;
    case request_kind::blue_green:
      self
        ->request(st.supervisor, caf::infinite, actors::shadow_atom::value,
                  p.req->definition, p.req->await_switch)
        .then(on_status, on_error);
      break;
    case request_kind::rollback:
      self->request(st.supervisor, caf::infinite, actors::rollback_atom::value, model)
        .then(on_status, on_error);
      break;
    case request_kind::discard:
      self->request(st.supervisor, caf::infinite, actors::discard_atom::value, model)
        .then(on_status, on_error);
      break;
    case request_kind::restart:
      self->request(st.supervisor, caf::infinite, actors::restart_atom::value, model)
        .then(on_status, on_error);
      break;
    default:
      self->request(st.supervisor, caf::infinite, actors::rebuild_atom::value, model)
        .then(on_status, on_error);
  }
}

// Sends a request on a model's parked events; the reply lists what is
// parked afterwards.
void send_parked(self_ptr self, session_state::pending p) {
  auto& st = self->state;
  auto kind = p.req->kind;
  auto reply_type = kind == request_kind::parked         ? "parked_ok"
                    : kind == request_kind::retry_parked ? "parked_retried"
                                                         : "parked_discarded";
  auto on_list = [self, p, reply_type](actors::parked_list& xs) {
    std::string fields;
    render_field(fields, "model", xs.model);
    if (p.req->kind != request_kind::parked)
      fields += ", \"done\": " + std::to_string(xs.done);
    fields += ", ";
    render_key(fields, "parked");
    render_json(fields, xs.entries);
    std::string text;
    render_reply(text, *p.req, reply_type, fields);
    control_answered(self, p, std::move(text));
  };
  auto on_error = [self, p](caf::error& err) {
    control_answered(self, p, control_error(p, err));
  };
  auto& model = p.req->model;
  if (kind == request_kind::parked)
    self->request(st.supervisor, caf::infinite, actors::parked_atom::value, model)
      .then(on_list, on_error);
  else if (kind == request_kind::retry_parked)
    self->request(st.supervisor, caf::infinite, actors::unpark_atom::value, model,
                  p.req->seq)
      .then(on_list, on_error);
  else
    self->request(st.supervisor, caf::infinite, actors::drop_parked_atom::value, model,
                  p.req->seq)
      .then(on_list, on_error);
}

// Serves queued requests in order as far as ordering allows.
void dispatch(self_ptr self) {
  auto& st = self->state;
  // A run of consecutive events of one kind (taken or not) forms a batch;
  // batches go to the bus in request order.
  std::vector<session_state::pending> batch;
  bool batch_taken = true;
  auto flush_batch = [&] {
    if (batch.empty())
      return;
    if (batch_taken)
      send_publish(self, std::move(batch));
    else
      send_resolve(self, std::move(batch));
    batch = {};
  };
  while (!st.queue.empty() && !st.control_in_flight) {
    auto& p = st.queue.front();
    auto& req = *p.req;
    std::string text;
    switch (req.kind) {
      case request_kind::event: {
        // Flow control: a new batch waits while the bus holds as many of
        // this session's publishes as it may (resumed by their answers).
        if (batch.empty() && st.publishes_in_flight >= st.options.max_publishes_in_flight)
          return;
        auto taken = st.subscription.takes(req.ev.type);
        if (taken != batch_taken) {
          flush_batch();
          batch_taken = taken;
        }
        if (batch.empty())
          batch.reserve(st.options.batch_size);
        batch.push_back(p);
        if (batch.size() >= st.options.batch_size)
          flush_batch();
        break;
      }
      case request_kind::query:
      case request_kind::status:
      case request_kind::pause:
      case request_kind::resume:
      case request_kind::rebuild:
      case request_kind::blue_green:
      case request_kind::rollback:
      case request_kind::discard:
      case request_kind::parked:
      case request_kind::retry_parked:
      case request_kind::discard_parked:
      case request_kind::restart:
        // Sees exactly the requests before it: waits for their publishes,
        // and holds the ones after it until it is answered.
        flush_batch();
        if (st.publishes_in_flight > 0)
          return; // resumed when the publishes are acknowledged
        st.control_in_flight = true;
        if (req.kind == request_kind::query)
          send_query(self, p);
        else if (req.kind == request_kind::status)
          send_status(self, p);
        else if (req.kind == request_kind::parked || req.kind == request_kind::retry_parked
                 || req.kind == request_kind::discard_parked)
          send_parked(self, p);
        else
          send_lifecycle(self, p);
        break;
      case request_kind::init:
        render_reply(text, req, "init_ok", {});
        finish(self, p.slot, std::move(text));
        break;
      case request_kind::subscribe: {
        st.subscription.subscribe(req.event_types);
        std::string fields;
        render_key(fields, "event_types");
        render_strings(fields, req.event_types);
        render_reply(text, req, "subscribed", fields);
        finish(self, p.slot, std::move(text));
        break;
      }
      case request_kind::unsubscribe: {
        st.subscription.unsubscribe(req.event_types);
        std::string fields;
        render_key(fields, "event_types");
        render_strings(fields, req.event_types);
        render_reply(text, req, "unsubscribed", fields);
        finish(self, p.slot, std::move(text));
        break;
      }
      case request_kind::error:
        render_error(text, req, req.code, req.text);
        finish(self, p.slot, std::move(text));
        break;
    }
    st.queue.pop_front();
  }
  flush_batch();
}

} // namespace

session_actor::behavior_type
session_impl(session_actor::stateful_pointer<session_state> self,
             actors::bus_actor bus, actors::supervisor_actor supervisor,
             session_options options) {
  auto& st = self->state;
  st.bus = std::move(bus);
  st.supervisor = std::move(supervisor);
  st.options = std::move(options);
  for (std::size_t i = 0; i < st.options.models.size(); ++i)
    st.model_index.emplace(st.options.models[i], i);
  self->set_default_handler(caf::drop);
  return {
    [self](chunk_atom, request_chunk& chunk, caf::actor& notify) {
      auto& st = self->state;
      if (chunk->empty()) {
        caf::anon_send(notify, chunk_done_atom::value);
        return;
      }
      for (auto& req : *chunk) {
        auto index = st.first_slot + st.slots.size();
        st.slots.emplace_back();
        st.queue.push_back({&req, index});
      }
      st.slots.back().notify = notify;
      st.chunks.push_back(std::move(chunk));
      dispatch(self);
      flush(self);
    },
  };
}

} // namespace bus::node
