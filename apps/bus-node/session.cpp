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

bool accepts(const session_state& st, const std::string& type) {
  return !st.subscribed || st.event_types.count(type) > 0;
}

void dispatch(self_ptr self);

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
          std::string fields;
          render_key(fields, "event_id");
          render_string(fields, outcome.id);
          std::string text;
          if (outcome.duplicate) {
            fields += ", \"reason\": \"already_processed\"";
            render_reply(text, *batch[j].req, "event_skipped", fields);
          } else {
            fields += ", \"updated_models\": [";
            bool first = true;
            for (std::size_t m = 0; m < n; ++m) {
              if (!took[j * n + m])
                continue;
              if (!first)
                fields += ", ";
              first = false;
              render_string(fields, st.options.models[m]);
            }
            fields += ']';
            render_reply(text, *batch[j].req, "read_models_updated", fields);
          }
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
          std::string fields;
          render_key(fields, "event_id");
          render_string(fields, outcomes[j].id);
          std::string text;
          if (outcomes[j].duplicate && outcomes[j].seq > 0) {
            fields += ", \"reason\": \"already_processed\"";
            render_reply(text, *batch[j].req, "event_skipped", fields);
          } else {
            fields += ", \"updated_models\": []";
            render_reply(text, *batch[j].req, "read_models_updated", fields);
          }
          finish(self, batch[j].slot, std::move(text));
        }
        bus_answered(self);
      },
      [self, batch](caf::error& err) {
        fail_batch(self, batch, err);
        bus_answered(self);
      });
}

void send_query(self_ptr self, session_state::pending p) {
  auto& st = self->state;
  st.query_in_flight = true;
  auto model = p.req->model;
  auto key = p.req->key;
  self
    ->request(st.supervisor, caf::infinite, actors::query_atom::value,
              std::move(model), std::move(key))
    .then(
      [self, p](actors::query_result& r) {
        std::string fields;
        render_key(fields, "model");
        render_string(fields, r.model);
        fields += ", ";
        render_key(fields, "key");
        render_string(fields, r.key);
        fields += ", ";
        render_key(fields, "value");
        render_json(fields, r.value);
        std::string text;
        render_reply(text, *p.req, "query_ok", fields);
        finish(self, p.slot, std::move(text));
        self->state.query_in_flight = false;
        dispatch(self);
        flush(self);
      },
      [self, p](caf::error& err) {
        auto code = code_of(err) == errc::model_unavailable
                      ? error_code::temporarily_unavailable
                    : code_of(err) == errc::no_such_key
                        || code_of(err) == errc::no_such_model
                      ? error_code::key_does_not_exist
                      : error_code::temporarily_unavailable;
        auto text = context_of(err).empty() ? caf::to_string(err)
                                            : context_of(err);
        std::string line;
        render_error(line, *p.req, code, text);
        finish(self, p.slot, std::move(line));
        self->state.query_in_flight = false;
        dispatch(self);
        flush(self);
      });
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
  while (!st.queue.empty() && !st.query_in_flight) {
    auto& p = st.queue.front();
    auto& req = *p.req;
    std::string text;
    switch (req.kind) {
      case request_kind::event: {
        auto taken = accepts(st, req.ev.type);
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
        flush_batch();
        if (st.publishes_in_flight > 0)
          return; // resumed when the publishes are acknowledged
        send_query(self, p);
        break;
      case request_kind::init:
        render_reply(text, req, "init_ok", {});
        finish(self, p.slot, std::move(text));
        break;
      case request_kind::subscribe: {
        if (!st.subscribed)
          st.event_types.clear();
        st.subscribed = true;
        st.event_types.insert(req.event_types.begin(), req.event_types.end());
        std::string fields;
        render_key(fields, "event_types");
        render_strings(fields, req.event_types);
        render_reply(text, req, "subscribed", fields);
        finish(self, p.slot, std::move(text));
        break;
      }
      case request_kind::unsubscribe: {
        if (!st.subscribed)
          st.event_types = st.options.handled_types;
        st.subscribed = true;
        for (auto& t : req.event_types)
          st.event_types.erase(t);
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
