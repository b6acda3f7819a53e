#include "session.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>

#include <caf/all.hpp>

#include "bus/errc.hpp"
#include "session_parts.hpp"

namespace bus::node {

namespace {

session_state::slot& slot_at(self_ptr self, std::size_t index) {
  return self->state.slots[index - self->state.first_slot];
}

} // namespace

void finish(self_ptr self, std::size_t index, std::string text) {
  auto& s = slot_at(self, index);
  s.text = std::move(text);
  s.ready = true;
}

void finish(self_ptr self, std::size_t index,
            const std::shared_ptr<const std::string>& text, std::size_t offset,
            std::size_t size) {
  auto& s = slot_at(self, index);
  s.shared = text;
  s.offset = offset;
  s.size = size;
  s.ready = true;
}

void flush(self_ptr self) {
  auto& st = self->state;
  auto& out = st.out;
  out.clear();
  std::size_t chunks_done = 0;
  while (!st.slots.empty() && st.slots.front().ready) {
    out += st.slots.front().reply();
    if (st.slots.front().notify) {
      st.done_notices.push_back(std::move(st.slots.front().notify));
      ++chunks_done;
    }
    st.slots.pop_front();
    ++st.first_slot;
  }
  if (!out.empty()) {
    std::fwrite(out.data(), 1, out.size(), st.options.out);
    std::fflush(st.options.out);
  }
  // Only now are their replies written: the reader may exit on the last.
  for (auto& notify : st.done_notices)
    caf::anon_send(notify, chunk_done_atom::value);
  st.done_notices.clear();
  st.chunks.erase(st.chunks.begin(),
                  st.chunks.begin() + static_cast<std::ptrdiff_t>(chunks_done));
}

namespace {

// Renders the replies of a batch into one string, `render(out, j)` each,
// and hands each slot its piece.
template <class Render>
void finish_batch(self_ptr self, const std::vector<session_state::pending>& batch,
                  Render render) {
  auto text = std::make_shared<std::string>();
  for (std::size_t j = 0; j < batch.size(); ++j) {
    auto offset = text->size();
    render(*text, j);
    if (j == 0) // replies of a batch are about the same length
      text->reserve(text->size() * batch.size() * 5 / 4);
    finish(self, batch[j].slot, text, offset, text->size() - offset);
  }
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
    ->request(st.bus, caf::infinite, actors::publish_atom::value, std::move(events),
              actors::publish_wait::projectors)
    .then(
      [self, batch = std::move(batch)](actors::publish_ack& ack) {
        auto& state = self->state;
        // Models on other nodes not awaited are named after the others, in
        // the order they first took an event; those first seen together by
        // name, not in the bus's table order, which varies from run to run.
        std::vector<std::string> seen;
        for (auto& m : ack.models)
          if (state.model_index.count(m.model) == 0)
            seen.push_back(m.model);
        std::sort(seen.begin(), seen.end());
        seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
        for (auto& name : seen) {
          state.model_index.emplace(name, state.options.models.size());
          render_string(state.quoted_models.emplace_back(), name);
          state.options.models.push_back(std::move(name));
        }
        // took[j * n + m]: model m (config order) took event j.
        auto n = state.options.models.size();
        std::vector<bool> took(batch.size() * n, false);
        for (auto& m : ack.models) {
          auto i = state.model_index.find(m.model);
          if (i == state.model_index.end())
            continue;
          for (auto j : m.applied)
            took[j * n + i->second] = true;
        }
        std::string updated; // the models that took event j, in config order
        finish_batch(self, batch, [&](std::string& out, std::size_t j) {
          // Events of a batch are mostly taken by the same models: the list
          // is made again only when they differ from the last event's.
          auto row = took.begin() + static_cast<std::ptrdiff_t>(j * n);
          if (j == 0
              || !std::equal(row, row + static_cast<std::ptrdiff_t>(n),
                             row - static_cast<std::ptrdiff_t>(n))) {
            updated.clear();
            for (std::size_t m = 0; m < n; ++m) {
              if (took[j * n + m]) {
                if (!updated.empty())
                  updated += ", ";
                updated += state.quoted_models[m];
              }
            }
          }
          auto& outcome = ack.outcomes[j];
          render_event_reply(out, *batch[j].req, outcome.id, outcome.duplicate,
                             updated);
        });
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
  self->request(st.bus, caf::infinite, actors::resolve_atom::value, std::move(events))
    .then(
      [self, batch = std::move(batch)](std::vector<actors::publish_outcome>& outcomes) {
        finish_batch(self, batch, [&](std::string& out, std::size_t j) {
          // Only a logged event (seq > 0) counts as processed before.
          auto skipped = outcomes[j].duplicate && outcomes[j].seq > 0;
          render_event_reply(out, *batch[j].req, outcomes[j].id, skipped, {});
        });
        bus_answered(self);
      },
      [self, batch](caf::error& err) {
        fail_batch(self, batch, err);
        bus_answered(self);
      });
}

} // namespace

namespace {

// Why the node may not answer as the leader of its log now, if it may not:
// requests are then refused, not answered from a log another node may be
// appending to.
std::optional<std::string> lead_refusal(const session_state& st) {
  if (!st.lost_lead.empty())
    return "this bus node no longer leads the log: " + st.lost_lead
           + "; nothing was done, send it to the leader";
  if (!st.options.lead)
    return std::nullopt;
  auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
               .count();
  if (now < st.options.lead->load())
    return std::nullopt;
  return std::string{"this bus node cannot confirm that it still leads the log "
                     "(its lease is not renewed: the database may be "
                     "unreachable); nothing was done, resend it"};
}

} // namespace

void dispatch(self_ptr self) {
  auto& st = self->state;
  auto refusal = lead_refusal(st);
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
    if (refusal && req.kind != request_kind::init && req.kind != request_kind::error) {
      flush_batch();
      render_error(text, req, error_code::temporarily_unavailable, *refusal);
      finish(self, p.slot, std::move(text));
      st.queue.pop_front();
      continue;
    }
    switch (req.kind) {
      case request_kind::event: {
        auto taken = st.subscription.takes(req.ev.type);
        if (taken != batch_taken)
          flush_batch(); // an event of the other kind ends the batch
        // Flow control: a new batch waits while the bus holds as many of
        // this session's publishes as it may (resumed by their answers).
        // Checked after the flush above, which sent one more: events that
        // alternate between taken and not taken start a batch each.
        if (batch.empty()
            && st.publishes_in_flight >= st.options.max_publishes_in_flight)
          return;
        batch_taken = taken;
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
      case request_kind::await_applied:
      case request_kind::command:
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
        else if (req.kind == request_kind::await_applied)
          send_await(self, p);
        else if (req.kind == request_kind::command)
          send_command(self, p);
        else if (req.kind == request_kind::parked
                 || req.kind == request_kind::retry_parked
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

session_actor::behavior_type
session_impl(session_actor::stateful_pointer<session_state> self, actors::bus_actor bus,
             actors::supervisor_actor supervisor, session_options options) {
  auto& st = self->state;
  st.bus = std::move(bus);
  st.supervisor = std::move(supervisor);
  st.options = std::move(options);
  for (std::size_t i = 0; i < st.options.models.size(); ++i) {
    st.model_index.emplace(st.options.models[i], i);
    render_string(st.quoted_models.emplace_back(), st.options.models[i]);
  }
  self->set_default_handler(caf::drop);
  return {
    [self](chunk_atom, request_chunk& chunk, caf::actor& notify) {
      auto& state = self->state;
      if (chunk->empty()) {
        caf::anon_send(notify, chunk_done_atom::value);
        return;
      }
      for (auto& req : *chunk) {
        auto index = state.first_slot + state.slots.size();
        state.slots.emplace_back();
        state.queue.push_back({&req, index});
      }
      state.slots.back().notify = notify;
      state.chunks.push_back(std::move(chunk));
      dispatch(self);
      flush(self);
    },
    [self](lost_lead_atom, std::string& why) {
      self->state.lost_lead = std::move(why);
      dispatch(self);
      flush(self);
    },
  };
}

std::size_t publishes_in_flight_for(std::size_t batch_size) noexcept {
  constexpr std::size_t at_default_size = 48;
  constexpr std::size_t most = 256;
  constexpr std::size_t events = at_default_size * 1024;
  auto n = events / std::max<std::size_t>(batch_size, 1);
  return std::clamp(n, at_default_size, most);
}

} // namespace bus::node
