// The bus's publishes (see internal/bus_publish.hpp): the checks a publish
// passes, its append, the group commit's sync, and its answer.

#include "internal/bus_publish.hpp"

#include <caf/all.hpp>

#include "bus/errc.hpp"
#include "bus/event_codec.hpp"
#include "bus/log.hpp"
#include "internal/bus_state.hpp"
#include "internal/fan_out.hpp"
#include "internal/peer_check.hpp"
#include "internal/publish_order.hpp"

namespace bus::actors::internal {

using bus::internal::check_peer;

namespace {

// Answers a publish whose events are durable: at once, or once subscribed
// projectors processed them.
void finish_publish(bus_self self, publish_ack ack, const event_batch& appended,
                    publish_wait wait, caf::typed_response_promise<publish_ack> promise,
                    const caf::actor_addr& publisher) {
  if (appended.empty() || wait == publish_wait::log) {
    if (!appended.empty())
      fan_out(self, appended, nullptr);
    answer_publish(self, promise, std::move(ack), publisher);
    return;
  }
  auto pending = std::make_shared<pending_publish>();
  pending->promise = std::move(promise);
  pending->publisher = publisher;
  pending->published_index.reserve(appended.size());
  for (std::uint32_t i = 0; i < ack.outcomes.size(); ++i)
    if (!ack.outcomes[i].duplicate)
      pending->published_index.push_back(i);
  pending->ack = std::move(ack);
  fan_out(self, appended, std::move(pending));
}

} // namespace

// Holds `f` until the log's next sync; arms the sync if needed. Without an
// interval the sync goes to the back of the mailbox: the publishes already
// waiting there are appended first, and one commit covers them all. With
// one, a timer brings it, or the mailbox once options.sync_after_events
// (or sync_after_replies) wait for it. Either way, once
// options.sync_ahead_events wait, a sync goes ahead of the mailbox.
void after_sync(bus_self self, std::function<void(const caf::error&)> f) {
  using next_sync = bus_state::next_sync;
  auto& st = self->state;
  st.awaiting_sync.push_back(std::move(f));
  auto interval = st.log->sync_interval();
  if (st.sync_request == next_sync::none && interval.count() > 0) {
    st.sync_request = next_sync::timer;
    self->delayed_send(self, interval, sync_atom::value);
  }
  auto waiting = st.log->head() - st.log->durable_head();
  if (waiting >= st.options.sync_ahead_events && st.sync_request != next_sync::ahead) {
    // A sync at the back of a long mailbox would wait for every publish
    // in it: this one goes ahead. One queued or timed before it finds
    // less to do, or nothing (a sync of nothing commits nothing).
    st.sync_request = next_sync::ahead;
    self->send<caf::message_priority::high>(self, sync_atom::value);
    return;
  }
  auto full = waiting >= st.options.sync_after_events
              || st.awaiting_sync.size() >= st.options.sync_after_replies;
  if (st.sync_request == next_sync::none
      || (st.sync_request == next_sync::timer && full)) {
    st.sync_request = next_sync::queued;
    self->send(self, sync_atom::value);
  }
}

void tell_store_state(bus_self self, log_outcome outcome) {
  auto& st = self->state;
  // Asking the log's health on every append would cost the hot path: only
  // a failure, or a success after one, can change what was said.
  if (outcome == log_outcome::succeeded && st.store_told == store_state::healthy)
    return;
  auto now = st.log->health();
  if (now.state == st.store_told)
    return;
  st.store_told = now.state;
  if (now.state == store_state::healthy)
    BUS_LOG(log_level::info, "bus", "store healthy again");
  else
    BUS_LOG(log_level::error, "bus",
            "store " << to_string(now.state) << ": " << now.reason
                     << "; publishes get error 14 (storage_failed) until "
                        "it recovers or the node restarts");
}

void sync_now(bus_self self) {
  auto& st = self->state;
  st.sync_request = bus_state::next_sync::none;
  auto waiting = std::move(st.awaiting_sync);
  st.awaiting_sync.clear();
  auto synced = guarded([&] {
    st.log->sync();
    return true;
  });
  // On failure the log dropped every event past its durable head: each
  // held reply names one of them, so each gets the error.
  auto err = synced ? caf::error{} : synced.error();
  tell_store_state(self, synced ? log_outcome::succeeded : log_outcome::failed);
  for (auto& f : waiting)
    f(err);
}

caf::result<publish_ack> publish(bus_self self, std::vector<event>& events,
                                 publish_wait wait, publish_order order) {
  if (auto err = check_peer(self, self->state.options.peers, peer_role::publisher,
                            "publish"))
    return err;
  // Only another node can send a value outside the enum.
  if (wait != publish_wait::log && wait != publish_wait::projectors)
    return make_error(errc::invalid_event, "publish: unknown publish_wait value "
                                             + std::to_string(static_cast<int>(wait)));
  if (order != publish_order::as_sent && order != publish_order::any)
    return make_error(errc::invalid_event, "publish: unknown publish_order value "
                                             + std::to_string(static_cast<int>(order)));
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (events[i].id.empty() || events[i].type.empty())
      return make_error(errc::invalid_event, "event " + std::to_string(i)
                                               + " of the batch has no id or no type");
    // The JSON node refuses such numbers at its input; an event built in
    // C++ or sent by another node comes here unchecked, and once logged
    // it would reach queries and replies as a number JSON cannot carry.
    if (!finite_event(events[i]))
      return make_error(errc::invalid_event,
                        "event " + std::to_string(i)
                          + " of the batch holds a number that is not finite "
                            "(NaN or an infinity) in its payload or metadata: "
                            "JSON has no such number");
  }
  // Flow control: a publisher waits for its answers before it has more
  // than the limit unanswered; past it, nothing is appended.
  auto publisher = caf::actor_cast<caf::actor_addr>(self->current_sender());
  auto& st = self->state;
  if (auto n = internal::publishes_in_flight(self, publisher);
      n > 0 && n >= st.options.max_publishes_in_flight)
    return make_error(errc::overloaded,
                      "the publisher has " + std::to_string(n)
                        + " publishes unanswered, the most the bus allows: "
                          "wait for an answer before publishing more");
  if (auto err = internal::check_publish_order(self, publisher, events, order))
    return err;
  auto published = events.size();
  auto number = ++st.publishes_taken;
  // Only for a failed append (rare: a store that writes at its sync fails
  // there); it may be a redelivery of a logged event.
  auto first_id = published > 0 ? events.front().id : std::string{};
  auto appended = guarded([&] { return self->state.log->append(std::move(events)); });
  tell_store_state(self, appended ? log_outcome::succeeded : log_outcome::failed);
  if (!appended) {
    internal::note_failed_publish(self, publisher, number, first_id, order,
                                  appended.error());
    return appended.error();
  }
  auto& result = *appended;
  auto fresh = result.appended.size();
  auto repeated = published - fresh;
  publish_ack ack;
  ack.outcomes.reserve(published);
  for (auto& o : result.outcomes)
    ack.outcomes.push_back({o.id, o.seq, o.duplicate});
  if (last_named(result.outcomes) > self->state.log->durable_head()) {
    // Group commit: no reply, no fan-out before the sync covers it.
    internal::hold_publish(self, publisher);
    auto promise = self->make_response_promise<publish_ack>();
    after_sync(self, [self, promise, ack = std::move(ack),
                      batch = std::move(result.appended), wait, publisher, repeated,
                      number, order](const caf::error& err) mutable {
      if (err) {
        // Its first event the log did not hold (its redeliveries have
        // other seqs): what its resend begins with, after those.
        if (!batch.empty())
          internal::note_failed_publish(self, publisher, number, batch.front().id,
                                        order, err);
        answer_publish(self, promise, err, publisher);
        return;
      }
      self->state.appended += batch.size();
      self->state.duplicates += repeated;
      finish_publish(self, std::move(ack), batch, wait, promise, publisher);
    });
    return promise;
  }
  st.appended += fresh;
  st.duplicates += repeated;
  if (result.appended.empty()) {
    return ack;
  }
  if (wait == publish_wait::log) {
    fan_out(self, result.appended, nullptr);
    return ack;
  }
  internal::hold_publish(self, publisher);
  auto promise = self->make_response_promise<publish_ack>();
  finish_publish(self, std::move(ack), result.appended, wait, promise, publisher);
  return promise;
}

} // namespace bus::actors::internal
