// The channel actor (see channel.hpp): the ledger decides who holds what;
// this file talks to receivers and requesters and keeps the timers.

#include "bus/actors/channel.hpp"

#include <chrono>
#include <map>
#include <unordered_map>

#include <caf/all.hpp>

#include "bus/channel_ledger.hpp"
#include "bus/errc.hpp"
#include "internal/millis.hpp"

namespace bus::actors {

using bus::internal::millis;

namespace {

struct joined_receiver {
  channel_receiver_actor handle;
  caf::actor_addr address;
};

struct waiting_request {
  std::string correlation_id;
  caf::timespan timeout;
  caf::typed_response_promise<channel_reply> promise;
};

struct channel_state {
  channel_state() = default; // C++20 handle check (see caf-notes)

  channel_options options;
  channel_ledger ledger;
  /// What the ledger tracks, by message id; erased once settled.
  std::unordered_map<std::uint64_t, channel_message> messages;
  /// Ledger receiver keys: ours, since actor ids repeat across nodes.
  std::map<std::uint64_t, joined_receiver> receivers;
  std::uint64_t next_receiver = 1;
  std::map<std::uint64_t, waiting_request> requests;
  std::uint64_t ack_timeouts = 0;
  std::uint64_t dropped_replies = 0;
  std::uint64_t stray_acks = 0;

  static inline const char* name = "bus.channel";
};

using channel_self = channel_actor::stateful_pointer<channel_state>;

channel_status status_of(const channel_state& st) {
  channel_status s;
  s.receivers = st.ledger.receivers();
  s.pending = st.ledger.pending();
  s.in_flight = st.ledger.in_flight();
  s.acked = st.ledger.acked();
  s.redelivered = st.ledger.redelivered();
  s.ack_timeouts = st.ack_timeouts;
  s.requests_waiting = st.requests.size();
  s.expired_requests = st.ledger.expired();
  s.dropped_replies = st.dropped_replies;
  s.stray_acks = st.stray_acks;
  return s;
}

std::optional<std::uint64_t> key_of(const channel_state& st,
                                    const caf::actor_addr& address) {
  for (auto& [key, r] : st.receivers)
    if (r.address == address)
      return key;
  return std::nullopt;
}

// Sends what the ledger hands out, each with its ack timer.
void dispatch(channel_self self) {
  auto& st = self->state;
  for (auto& d : st.ledger.assign()) {
    auto& msg = st.messages.at(d.message);
    msg.attempt = d.attempt;
    self->send(st.receivers.at(d.receiver).handle, take_atom::value, msg);
    if (st.options.ack_timeout > caf::timespan::zero())
      self->delayed_send(self, st.options.ack_timeout, expire_atom::value, d.message,
                         d.attempt);
  }
}

void forget(channel_state& st, std::uint64_t id) {
  st.messages.erase(id);
}

// Refuses a message the channel has no room for (the sender keeps it).
caf::error check_room(const channel_state& st, const char* what) {
  auto limit = st.options.max_unsettled;
  if (limit == 0 || st.ledger.pending() + st.ledger.in_flight() < limit)
    return caf::none;
  return make_error(errc::overloaded, std::string{what} + ": the channel holds "
                                        + std::to_string(limit)
                                        + " messages not yet acknowledged");
}

std::uint64_t enqueue(channel_self self, std::string correlation_id, std::string body) {
  auto& st = self->state;
  auto id = st.ledger.add();
  st.messages.emplace(id, channel_message{id, 0, std::move(correlation_id),
                                          std::move(body)});
  return id;
}

// Drops receiver `key`; what it held goes to the others (or waits).
void drop_receiver(channel_self self, std::uint64_t key) {
  auto& st = self->state;
  st.ledger.remove_receiver(key);
  st.receivers.erase(key);
  dispatch(self);
}

channel_actor::behavior_type channel_impl(channel_self self, channel_options options) {
  self->state.options = options;
  // Nothing unexpected may reach stdout (see caf-notes): drop it.
  self->set_default_handler(caf::drop);
  self->set_down_handler([self](caf::down_msg& dm) {
    // A receiver died or its node was lost before acking what it held.
    if (auto key = key_of(self->state, dm.source))
      drop_receiver(self, *key);
  });
  return {
    [self](enqueue_atom, std::string& body) -> caf::result<std::uint64_t> {
      if (auto err = check_room(self->state, "enqueue"))
        return err;
      auto id = enqueue(self, {}, std::move(body));
      dispatch(self);
      return id;
    },
    [self](join_atom, channel_receiver_actor& receiver,
           std::uint32_t credit) -> caf::result<channel_status> {
      auto& st = self->state;
      if (!receiver)
        return make_error(errc::precondition_failed, "join: no receiver given");
      if (credit == 0)
        return make_error(errc::precondition_failed,
                          "join: a receiver needs a credit of at least 1");
      auto address = receiver.address();
      if (key_of(st, address))
        return make_error(errc::precondition_failed, "join: the receiver has joined");
      auto key = st.next_receiver++;
      st.receivers.emplace(key, joined_receiver{receiver, address});
      st.ledger.add_receiver(key, credit);
      self->monitor(receiver);
      dispatch(self);
      return status_of(st);
    },
    [self](leave_atom, channel_receiver_actor& receiver) -> channel_status {
      if (auto key = key_of(self->state, receiver.address())) {
        self->demonitor(receiver.address());
        drop_receiver(self, *key);
      }
      return status_of(self->state);
    },
    [self](ack_atom, std::uint64_t id) {
      auto& st = self->state;
      auto sender = caf::actor_cast<caf::actor_addr>(self->current_sender());
      if (!key_of(st, sender)) {
        ++st.stray_acks;
        return;
      }
      // Any receiver may ack: one whose delivery timed out may still have
      // processed it, and acking settles the message the sooner.
      if (st.ledger.ack(id) == ack_outcome::acked) {
        forget(st, id);
        dispatch(self); // credit freed
      }
    },
    [self](request_atom, std::string& correlation_id, std::string& body,
           caf::timespan timeout) -> caf::result<channel_reply> {
      auto& st = self->state;
      if (correlation_id.empty())
        return make_error(errc::precondition_failed,
                          "request: a request needs a correlation id");
      if (timeout <= caf::timespan::zero())
        return make_error(errc::precondition_failed,
                          "request: the timeout must be positive");
      if (auto err = check_room(st, "request"))
        return err;
      auto id = enqueue(self, correlation_id, std::move(body));
      auto promise = self->make_response_promise<channel_reply>();
      st.requests.emplace(id,
                          waiting_request{std::move(correlation_id), timeout, promise});
      self->delayed_send(self, timeout, expire_atom::value, request_atom::value, id);
      dispatch(self);
      return promise;
    },
    [self](reply_atom, channel_reply& reply) {
      auto& st = self->state;
      auto i = st.requests.find(reply.request);
      if (i == st.requests.end() || i->second.correlation_id != reply.correlation_id) {
        ++st.dropped_replies;
        return;
      }
      auto promise = std::move(i->second.promise);
      st.requests.erase(i);
      if (st.ledger.ack(reply.request) == ack_outcome::acked)
        forget(st, reply.request);
      promise.deliver(std::move(reply));
      dispatch(self);
    },
    [self](status_atom) { return status_of(self->state); },
    [self](expire_atom, std::uint64_t id, std::uint32_t attempt) {
      auto& st = self->state;
      if (st.ledger.expire_delivery(id, attempt)) {
        ++st.ack_timeouts;
        dispatch(self);
      }
    },
    [self](expire_atom, request_atom, std::uint64_t id) {
      auto& st = self->state;
      auto i = st.requests.find(id);
      if (i == st.requests.end())
        return; // answered in time
      auto promise = std::move(i->second.promise);
      auto text = "request '" + i->second.correlation_id + "' got no reply within "
                  + std::to_string(millis(i->second.timeout)) + " ms";
      st.requests.erase(i);
      st.ledger.expire(id);
      forget(st, id);
      promise.deliver(make_error(errc::no_reply, std::move(text)));
      dispatch(self); // credit freed if it was in flight
    },
  };
}

} // namespace

channel_actor spawn_channel(caf::actor_system& sys, channel_options options) {
  return sys.spawn(channel_impl, options);
}

} // namespace bus::actors
