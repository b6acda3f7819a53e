#include "bus/actors/bus_actor.hpp"

#include <algorithm>

#include <caf/all.hpp>

#include "bus/errc.hpp"
#include "bus/event_codec.hpp"
#include "internal/bus_directory.hpp"
#include "internal/bus_state.hpp"
#include "internal/fan_out.hpp"
#include "internal/peer_check.hpp"
#include "internal/publish_order.hpp"

namespace bus::actors {

namespace {

using bus_actor_self = bus_actor::stateful_pointer<bus_state>;
using bus::internal::check_peer;
using internal::answer_publish;
using internal::fan_out;
using internal::pending_publish;

// Runs a log operation; a storage failure becomes errc::storage_failed.
template <class F>
auto guarded(F&& f) -> caf::expected<decltype(f())> {
  try {
    return f();
  } catch (const storage_error& ex) {
    return make_error(errc::storage_failed, ex.what());
  }
}

// Answers a publish whose events are durable: at once, or once subscribed
// projectors processed them.
void finish_publish(bus_actor_self self, publish_ack ack, const event_batch& appended,
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

// Returns the highest seq that `outcomes` name (duplicates included).
template <class Outcomes>
std::uint64_t last_named(const Outcomes& outcomes) {
  std::uint64_t result = 0;
  for (auto& o : outcomes)
    result = std::max(result, o.seq);
  return result;
}

// Holds `f` until the log's next sync; arms the sync if needed. Without an
// interval the sync goes to the back of the mailbox: the publishes already
// waiting there are appended first, and one commit covers them all. With
// one, a timer brings it, or the mailbox once options.sync_after_events
// (or sync_after_replies) wait for it.
void after_sync(bus_actor_self self, std::function<void(const caf::error&)> f) {
  using next_sync = bus_state::next_sync;
  auto& st = self->state;
  st.awaiting_sync.push_back(std::move(f));
  auto interval = st.log->sync_interval();
  if (st.sync_request == next_sync::none && interval.count() > 0) {
    st.sync_request = next_sync::timer;
    self->delayed_send(self, interval, sync_atom::value);
  }
  auto waiting = st.log->head() - st.log->durable_head();
  auto full = waiting >= st.options.sync_after_events
              || st.awaiting_sync.size() >= st.options.sync_after_replies;
  if (st.sync_request == next_sync::none
      || (st.sync_request == next_sync::timer && full)) {
    st.sync_request = next_sync::queued;
    self->send(self, sync_atom::value);
  }
}

// Syncs the log and answers every reply held for it.
void sync_now(bus_actor_self self) {
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
  for (auto& f : waiting)
    f(err);
}

// Reads at most `max` events from `from` on, none past the durable head.
caf::expected<event_batch> read_durable(const event_log& log, std::uint64_t from,
                                        std::size_t max) {
  auto durable = log.durable_head();
  if (from > durable)
    return event_batch{};
  max = static_cast<std::size_t>(std::min<std::uint64_t>(max, durable - from + 1));
  return guarded([&] { return log.read(from, max); });
}

// Appends a publish and answers it (see bus_actor's publish_atom).
caf::result<publish_ack> publish(bus_actor_self self, std::vector<event>& events,
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

} // namespace

bus_actor::behavior_type bus_impl(bus_actor::stateful_pointer<bus_state> self,
                                  std::shared_ptr<event_log> shared_log,
                                  bus_options options) {
  self->state.log = std::move(shared_log);
  self->state.options = options;
  // Group commit: a log that syncs each append() leaves it to the bus.
  self->state.log->defer_syncs();
  // Events a previous bus appended but did not sync (it died first) would
  // become durable with this bus's first sync without being fanned out:
  // settle them now, before anyone subscribes, so that subscribers count
  // them in the head they catch up to (a failing sync drops them instead;
  // their publishers were never acknowledged).
  if (self->state.log->head() > self->state.log->durable_head())
    guarded([&] {
      self->state.log->sync();
      return true;
    });
  self->set_default_handler(caf::drop);
  self->set_down_handler([self](caf::down_msg& dm) {
    // A projector or an attached node is gone (stopped, failed, or its node
    // is unreachable): drop it and go on serving everyone else. Its events
    // stay in the log for when it comes back.
    internal::drop_subscriber(self, dm.source);
    // A lost node stays listed without a supervisor, so that a query for
    // one of its models can say where the model went; the partitions it
    // held of shared models go to the nodes that share them still.
    bus::internal::node_lost(self, dm.source);
  });
  self->set_exit_handler([self](caf::exit_msg& msg) {
    // Stopping: the replies held for the next sync are answered first (a
    // publish that waits for projectors too then gets its error as its
    // pending_publish goes), so that no publisher waits for ever.
    if (!self->state.awaiting_sync.empty())
      sync_now(self);
    self->quit(msg.reason);
  });
  return {
    [self](publish_atom, std::vector<event>& events,
           publish_wait wait) -> caf::result<publish_ack> {
      return publish(self, events, wait, publish_order::as_sent);
    },
    [self](publish_atom, std::vector<event>& events, publish_wait wait,
           publish_order order) -> caf::result<publish_ack> {
      return publish(self, events, wait, order);
    },
    [self](resolve_atom,
           std::vector<event>& events) -> caf::result<std::vector<publish_outcome>> {
      if (auto err = check_peer(self, self->state.options.peers, peer_role::publisher,
                                "resolve"))
        return err;
      auto outcomes = guarded([&] { return self->state.log->resolve(events); });
      if (!outcomes)
        return outcomes.error();
      auto named = last_named(*outcomes);
      std::vector<publish_outcome> result;
      result.reserve(outcomes->size());
      for (auto& o : *outcomes)
        result.push_back({std::move(o.id), o.seq, o.duplicate});
      if (named <= self->state.log->durable_head())
        return result;
      // A duplicate of an event not durable yet: "logged" only after the sync.
      auto promise = self->make_response_promise<std::vector<publish_outcome>>();
      after_sync(self,
                 [promise, result = std::move(result)](const caf::error& err) mutable {
                   if (err)
                     promise.deliver(err);
                   else
                     promise.deliver(std::move(result));
                 });
      return promise;
    },
    [self](subscribe_atom, projector_actor& who, std::string& name,
           std::vector<std::string>& types) -> std::uint64_t {
      auto& st = self->state;
      auto head = st.log->durable_head();
      // A re-subscription (after the projector lost touch) starts afresh:
      // what it left unanswered is settled without it, and it pulls from
      // its checkpoint to the head anyway.
      if (!internal::drop_subscriber(self, who.address()))
        self->monitor(who);
      auto id = st.next_id++;
      st.subs.subscribe(id, types);
      bus_state::subscriber sub;
      sub.handle = who;
      auto suffix = shadow_suffix.size();
      if (name.size() > suffix
          && std::string_view{name}.substr(name.size() - suffix) == shadow_suffix)
        sub.role = model_role::shadow;
      sub.name = std::move(name);
      sub.covered = head;
      sub.announced = head;
      st.subscribers.emplace(id, std::move(sub));
      return head;
    },
    [self](unsubscribe_atom, projector_actor& who) {
      if (!internal::drop_subscriber(self, who.address()))
        return false;
      self->demonitor(who.address());
      return true;
    },
    [self](unsubscribe_atom, projector_actor& who, projector_actor& successor) {
      if (!internal::hand_over_subscriber(self, who.address(), std::move(successor)))
        return false;
      self->demonitor(who.address());
      return true;
    },
    [self](replay_atom, std::uint64_t from,
           std::uint32_t max) -> caf::result<event_batch> {
      auto& log = *self->state.log;
      if (from == 0)
        return make_error(errc::out_of_range, "replay starts at seq 1");
      auto batch = read_durable(log, from, max);
      if (!batch)
        return batch.error();
      return std::move(*batch);
    },
    [self](redeliver_atom, std::uint64_t from) -> caf::result<std::uint64_t> {
      auto& st = self->state;
      if (auto err = check_peer(self, st.options.peers, peer_role::unrestricted,
                                "redeliver"))
        return err;
      if (from == 0)
        return make_error(errc::out_of_range, "redelivery starts at seq 1");
      std::uint64_t pushed = 0;
      for (auto seq = from; seq <= st.log->durable_head();) {
        auto read = read_durable(*st.log, seq, 4096);
        if (!read)
          return read.error();
        auto& batch = *read;
        if (batch.empty())
          break;
        internal::push_again(self, batch);
        pushed += batch.size();
        seq = batch.last_seq() + 1;
      }
      return pushed;
    },
    [self](head_atom) { return self->state.log->durable_head(); },
    [self](attach_atom, std::string& node, caf::actor& supervisor,
           std::vector<std::string>& models) -> caf::result<std::uint64_t> {
      if (auto err = bus::internal::attach_node(
            self, std::move(node), std::move(supervisor), std::move(models), {}))
        return err;
      return self->state.log->durable_head();
    },
    [self](attach_atom, std::string& node, caf::actor& supervisor,
           std::vector<std::string>& models,
           std::vector<shared_model>& shared) -> caf::result<std::uint64_t> {
      if (auto err = bus::internal::attach_node(self, std::move(node),
                                                std::move(supervisor),
                                                std::move(models), std::move(shared)))
        return err;
      return self->state.log->durable_head();
    },
    [self](directory_atom) -> caf::result<std::vector<node_entry>> {
      // It hands out every node's supervisor, which takes lifecycle requests.
      if (auto err = check_peer(self, self->state.options.peers,
                                peer_role::unrestricted, "directory"))
        return err;
      return self->state.nodes;
    },
    [self](intent_atom, std::string& name, partition_pause& pause) {
      bus::internal::keep_partition_pause(self, self->current_sender(), name,
                                          std::move(pause));
    },
    [self](status_atom) -> caf::result<bus_status> {
      auto& st = self->state;
      bus_status result;
      result.head = st.log->durable_head();
      result.subscribers = static_cast<std::uint32_t>(st.subscribers.size());
      result.appended = st.appended;
      result.duplicates = st.duplicates;
      result.store = st.log->timings();
      // Its own mailbox, from inside its own handler: the only safe reader.
      result.mailbox = self->mailbox().size();
      auto health = st.log->health();
      result.store_state = health.state;
      result.store_error = std::move(health.reason);
      auto last = guarded([&] { return st.log->read(result.head, 1); });
      if (!last)
        return last.error();
      if (!last->empty())
        result.head_timestamp = last->front().timestamp;
      return result;
    },
    [self](sync_atom) {
      if (check_peer(self, self->state.options.peers, peer_role::unrestricted, "sync"))
        return; // internal: its timer
      sync_now(self);
    },
  };
}

bus_actor spawn_bus(caf::actor_system& sys, std::shared_ptr<event_log> log,
                    bus_options options) {
  return sys.spawn(bus_impl, std::move(log), std::move(options));
}

} // namespace bus::actors
