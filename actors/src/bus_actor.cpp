// The bus actor's behavior (see bus_actor.hpp): its start, its stop, and
// the requests it takes; publishes are in bus_publish.cpp, deliveries in
// fan_out.cpp.

#include "bus/actors/bus_actor.hpp"

#include <algorithm>

#include <caf/all.hpp>

#include "bus/errc.hpp"
#include "internal/bus_directory.hpp"
#include "internal/bus_publish.hpp"
#include "internal/bus_state.hpp"
#include "internal/directory_pauses.hpp"
#include "internal/fan_out.hpp"
#include "internal/peer_check.hpp"

namespace bus::actors {

namespace {

using bus::internal::check_peer;
using internal::after_sync;
using internal::guarded;
using internal::last_named;
using internal::publish;
using internal::sync_now;

// Reads at most `max` events from `from` on, none past the durable head.
caf::expected<event_batch> read_durable(const event_log& log, std::uint64_t from,
                                        std::size_t max) {
  auto durable = log.durable_head();
  if (from > durable)
    return event_batch{};
  max = static_cast<std::size_t>(std::min<std::uint64_t>(max, durable - from + 1));
  return guarded([&] { return log.read(from, max); });
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
  // What the operator wanted of shared models' partitions before a restart.
  bus::internal::load_directory_pauses(self);
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
    [self](intent_atom, std::string& name,
           partition_pause& pause) -> caf::result<void> {
      auto refused = bus::internal::keep_partition_pause(self, self->current_sender(),
                                                         name, std::move(pause));
      // Answered to a node that asks, whose operator's request waits for it.
      // One that only tells (an earlier release) gets nothing: an error it
      // did not ask for would end its supervisor (CAF's default handler).
      if (refused && self->current_message_id().is_request())
        return refused;
      return caf::unit;
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
      if (result.head > 0) {
        auto first = guarded([&] { return st.log->read(1, 1); });
        if (!first)
          return first.error();
        if (!first->empty())
          result.first_timestamp = first->front().timestamp;
      }
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
