#include "bus/actors/bus_actor.hpp"

#include <algorithm>

#include <caf/all.hpp>

#include "bus/errc.hpp"

namespace bus::actors {

namespace {

using self_ptr = bus_actor::stateful_pointer<bus_state>;

// Collects the projectors' acks for one publish whose publisher waits.
struct pending_publish {
  caf::typed_response_promise<publish_ack> promise;
  publish_ack ack;
  // Index in the published batch of each appended event.
  std::vector<std::uint32_t> published_index;
  std::size_t remaining = 0;

  void done_one() {
    if (--remaining == 0)
      promise.deliver(std::move(ack));
  }
};

} // namespace

struct outstanding_delivery {
  std::shared_ptr<pending_publish> pending; // null: nobody waits for it
  std::size_t slot = 0;
  bool settled = false;
};

namespace {

// Runs a log operation; a storage failure becomes errc::storage_failed.
template <class F>
auto guarded(F&& f) -> caf::expected<decltype(f())> {
  try {
    return f();
  } catch (const storage_error& ex) {
    return make_error(errc::storage_failed, ex.what());
  }
}

std::vector<std::string_view> distinct_types(const event_batch& batch) {
  std::vector<std::string_view> types;
  for (auto& e : batch)
    if (std::find(types.begin(), types.end(), e.type) == types.end())
      types.emplace_back(e.type);
  return types;
}

void push(self_ptr self, subscriptions::subscriber_id id, const event_batch& batch,
          std::uint64_t covers_from, std::shared_ptr<pending_publish> pending,
          std::size_t slot);

// Called when a delivery to `id` is answered: frees a place in its window
// and, if pushes were withheld, sends an empty push that covers up to the
// head, so that the projector pulls what it missed now rather than at the
// next publish (which may never come).
void delivery_done(self_ptr self, subscriptions::subscriber_id id) {
  auto& st = self->state;
  auto i = st.subscribers.find(id);
  if (i == st.subscribers.end())
    return;
  auto& sub = i->second;
  --sub.in_flight;
  if (sub.lagging && sub.in_flight < st.options.max_in_flight) {
    sub.lagging = false;
    sub.covered = st.log->durable_head();
    push(self, id, event_batch{}, sub.covered + 1, nullptr, 0);
  }
}

// Ends delivery `d` to subscriber `id`: with the projector's ack, or without
// one (it failed, timed out or is gone: it took none of the batch now, and
// it or its replacement pulls the batch from the log later).
void settle(self_ptr self, subscriptions::subscriber_id id,
            const std::shared_ptr<outstanding_delivery>& d,
            const delivery_ack* ack) {
  d->settled = true;
  auto& st = self->state;
  if (auto i = st.subscribers.find(id); i != st.subscribers.end()) {
    auto& queue = i->second.outstanding;
    queue.erase(std::find(queue.begin(), queue.end(), d));
    delivery_done(self, id);
  }
  if (auto& pending = d->pending) {
    if (ack) {
      auto& applied = pending->ack.models[d->slot].applied;
      applied.reserve(ack->applied.size());
      for (auto j : ack->applied)
        applied.push_back(pending->published_index[j]);
    }
    pending->done_one();
  }
}

// Sends `batch` to subscriber `id` as covering [covers_from, last seq].
void push(self_ptr self, subscriptions::subscriber_id id, const event_batch& batch,
          std::uint64_t covers_from, std::shared_ptr<pending_publish> pending,
          std::size_t slot) {
  auto& st = self->state;
  auto& sub = st.subscribers.at(id);
  ++sub.in_flight;
  auto d = std::make_shared<outstanding_delivery>();
  d->pending = std::move(pending);
  d->slot = slot;
  sub.outstanding.push_back(d);
  self
    ->request(sub.handle, st.options.delivery_timeout, deliver_atom::value,
              batch, covers_from)
    .then(
      [self, id, d](delivery_ack& ack) {
        if (!d->settled)
          settle(self, id, d, &ack);
      },
      [self, id, d](caf::error&) {
        if (!d->settled)
          settle(self, id, d, nullptr);
      });
}

// The subscriber whose projector has address `who`, or end().
auto find_subscriber(bus_state& st, const caf::actor_addr& who) {
  return std::find_if(st.subscribers.begin(), st.subscribers.end(),
                      [&](const auto& kv) { return kv.second.handle.address() == who; });
}

// Forgets a subscriber that is gone, settling what it left unanswered.
void drop_subscriber(self_ptr self,
                     std::unordered_map<subscriptions::subscriber_id,
                                        bus_state::subscriber>::iterator i) {
  auto& st = self->state;
  auto outstanding = std::move(i->second.outstanding);
  st.subs.unsubscribe(i->first);
  st.subscribers.erase(i);
  for (auto& d : outstanding) {
    d->settled = true;
    if (d->pending)
      d->pending->done_one();
  }
}

// Pushes `batch` to every subscriber that wants one of its types and has
// room in its window, and moves every subscriber's coverage past it.
void fan_out(self_ptr self, const event_batch& batch,
             std::shared_ptr<pending_publish> pending) {
  auto& st = self->state;
  auto wanted = st.subs.subscribers_of(distinct_types(batch));
  for (auto& [id, sub] : st.subscribers) {
    if (std::find(wanted.begin(), wanted.end(), id) == wanted.end())
      sub.covered = std::max(sub.covered, batch.last_seq());
  }
  std::vector<std::pair<subscriptions::subscriber_id, std::uint64_t>> targets;
  for (auto id : wanted) {
    auto& sub = st.subscribers.at(id);
    if (sub.in_flight >= st.options.max_in_flight) {
      // Too far behind: withhold the push. The projector pulls the log
      // when the next push it gets shows the gap.
      sub.lagging = true;
      continue;
    }
    auto covers_from = sub.lagging ? batch.first_seq() : sub.covered + 1;
    sub.lagging = false;
    sub.covered = batch.last_seq();
    targets.emplace_back(id, covers_from);
  }
  if (pending) {
    pending->remaining = targets.size() + 1; // +1 released below
    pending->ack.models.reserve(targets.size());
  }
  for (auto& [id, covers_from] : targets) {
    std::size_t slot = 0;
    if (pending) {
      slot = pending->ack.models.size();
      pending->ack.models.push_back(model_ack{st.subscribers.at(id).name, {}});
    }
    push(self, id, batch, covers_from, pending, slot);
  }
  if (pending)
    pending->done_one();
}

// Answers a publish whose events are durable: at once, or once subscribed
// projectors applied them (await).
void finish_publish(self_ptr self, publish_ack ack, const event_batch& appended,
                    bool await_projectors,
                    caf::typed_response_promise<publish_ack> promise) {
  if (appended.empty() || !await_projectors) {
    if (!appended.empty())
      fan_out(self, appended, nullptr);
    promise.deliver(std::move(ack));
    return;
  }
  auto pending = std::make_shared<pending_publish>();
  pending->promise = std::move(promise);
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

// Holds `f` until the log's next sync; arms the sync timer if needed.
void after_sync(self_ptr self, std::function<void(const caf::error&)> f) {
  auto& st = self->state;
  st.awaiting_sync.push_back(std::move(f));
  if (!st.sync_armed) {
    st.sync_armed = true;
    self->delayed_send(self, st.log->sync_interval(), sync_atom::value);
  }
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

} // namespace

bus_actor::behavior_type bus_impl(bus_actor::stateful_pointer<bus_state> self,
                                  std::shared_ptr<event_log> log,
                                  bus_options options) {
  self->state.log = std::move(log);
  self->state.options = options;
  self->set_default_handler(caf::drop);
  self->set_down_handler([self](caf::down_msg& dm) {
    // A projector or an attached node is gone (stopped, failed, or its node
    // is unreachable): drop it and go on serving everyone else. Its events
    // stay in the log for when it comes back.
    auto& st = self->state;
    if (auto i = find_subscriber(st, dm.source); i != st.subscribers.end())
      drop_subscriber(self, i);
    // A lost node stays listed without a supervisor, so that a query for
    // one of its models can say where the model went.
    for (auto& n : st.nodes)
      if (n.supervisor && n.supervisor.address() == dm.source)
        n.supervisor = nullptr;
  });
  return {
    [self](publish_atom, std::vector<event>& events,
           bool await_projectors) -> caf::result<publish_ack> {
      for (std::size_t i = 0; i < events.size(); ++i)
        if (events[i].id.empty() || events[i].type.empty())
          return make_error(errc::invalid_event,
                            "event " + std::to_string(i)
                              + " of the batch has no id or no type");
      auto published = events.size();
      auto appended = guarded([&] { return self->state.log->append(std::move(events)); });
      if (!appended)
        return appended.error();
      auto& result = *appended;
      publish_ack ack;
      ack.outcomes.reserve(published);
      for (auto& o : result.outcomes)
        ack.outcomes.push_back({o.id, o.seq, o.duplicate});
      if (last_named(result.outcomes) > self->state.log->durable_head()) {
        // Group commit: no reply, no fan-out before the sync covers it.
        auto promise = self->make_response_promise<publish_ack>();
        after_sync(self, [self, promise, ack = std::move(ack),
                          batch = std::move(result.appended),
                          await_projectors](const caf::error& err) mutable {
          if (err)
            promise.deliver(err);
          else
            finish_publish(self, std::move(ack), batch, await_projectors, promise);
        });
        return promise;
      }
      if (result.appended.empty()) {
        return ack;
      }
      if (!await_projectors) {
        fan_out(self, result.appended, nullptr);
        return ack;
      }
      auto promise = self->make_response_promise<publish_ack>();
      finish_publish(self, std::move(ack), result.appended, true, promise);
      return promise;
    },
    [self](resolve_atom,
           std::vector<event>& events) -> caf::result<std::vector<publish_outcome>> {
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
      after_sync(self, [promise, result = std::move(result)](
                         const caf::error& err) mutable {
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
      if (auto i = find_subscriber(st, who.address()); i != st.subscribers.end()) {
        // A re-subscription replaces the types; pushes restart at head.
        st.subs.unsubscribe(i->first);
        st.subs.subscribe(i->first, types);
        i->second.covered = head;
        return head;
      }
      auto id = st.next_id++;
      st.subs.subscribe(id, types);
      bus_state::subscriber sub;
      sub.handle = who;
      sub.name = std::move(name);
      sub.covered = head;
      st.subscribers.emplace(id, std::move(sub));
      self->monitor(who);
      return head;
    },
    [self](unsubscribe_atom, projector_actor& who) {
      auto& st = self->state;
      auto i = find_subscriber(st, who.address());
      if (i == st.subscribers.end())
        return false;
      drop_subscriber(self, i);
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
        auto types = distinct_types(batch);
        for (auto id : st.subs.subscribers_of(types)) {
          // A subscriber whose window is full pulls the log anyway.
          if (st.subscribers.at(id).in_flight >= st.options.max_in_flight)
            continue;
          // Covers only its own range: every seq of it is already covered.
          push(self, id, batch, batch.first_seq(), nullptr, 0);
        }
        pushed += batch.size();
        seq = batch.last_seq() + 1;
      }
      return pushed;
    },
    [self](head_atom) { return self->state.log->durable_head(); },
    [self](attach_atom, std::string& node, caf::actor& supervisor,
           std::vector<std::string>& models) {
      auto& st = self->state;
      // A node that attaches again (after a reconnect, or restarted under
      // the same name) replaces its entry.
      auto& nodes = st.nodes;
      nodes.erase(std::remove_if(nodes.begin(), nodes.end(),
                                 [&](const node_entry& n) {
                                   return n.node == node
                                          || n.supervisor == supervisor;
                                 }),
                  nodes.end());
      self->monitor(supervisor);
      nodes.push_back({std::move(node), std::move(supervisor), std::move(models)});
      return st.log->durable_head();
    },
    [self](directory_atom) { return self->state.nodes; },
    [self](status_atom) -> caf::result<bus_status> {
      auto& st = self->state;
      bus_status result;
      result.head = st.log->durable_head();
      result.subscribers = static_cast<std::uint32_t>(st.subscribers.size());
      auto last = guarded([&] { return st.log->read(result.head, 1); });
      if (!last)
        return last.error();
      if (!last->empty())
        result.head_timestamp = last->front().timestamp;
      return result;
    },
    [self](sync_atom) {
      auto& st = self->state;
      st.sync_armed = false;
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
    },
  };
}

} // namespace bus::actors
