#include "internal/fan_out.hpp"

#include <algorithm>
#include <optional>

#include <caf/all.hpp>

#include "bus/errc.hpp"
#include "bus/partitions.hpp"
#include "bus/string_keys.hpp"

namespace bus::actors {

/// One delivery under way (a push or a progress note).
struct outstanding_delivery {
  /// The awaited publish of a pushed batch (null: nobody waits for it).
  internal::pending_ptr pending;
  std::size_t slot = 0;
  /// The pushed batch, when awaited: a blue/green successor may answer it.
  event_batch batch;
  /// Awaited publishes of no interest to the subscriber that this delivery
  /// carries it past.
  std::vector<internal::pending_ptr> passing;
  bool settled = false;
};

namespace internal {

namespace {

using subscriber_map = decltype(bus_state::subscribers);

std::vector<std::string_view> distinct_types(const event_batch& batch) {
  // Per event of every batch: compared in place (no memcmp call), the
  // last type seen first, as runs of one type are common.
  std::vector<std::string_view> types;
  string_equal eq;
  std::string_view last;
  for (auto& e : batch) {
    if (!types.empty() && eq(last, e.type))
      continue;
    last = e.type;
    if (std::none_of(types.begin(), types.end(),
                     [&](std::string_view t) { return eq(t, last); }))
      types.emplace_back(last);
  }
  return types;
}

void done_one(bus_self self, const pending_ptr& p) {
  if (--p->remaining == 0)
    answer_publish(self, p->promise, std::move(p->ack), p->publisher);
}

void pump(bus_self self, subscriptions::subscriber_id id);

// Ends delivery `d` to subscriber `id`: with the projector's ack, or without
// one (it failed, timed out or is gone: it took none of the batch now, and
// it or its replacement pulls the batch from the log later).
void settle(bus_self self, subscriptions::subscriber_id id,
            const std::shared_ptr<outstanding_delivery>& d, const delivery_ack* ack) {
  d->settled = true;
  auto& st = self->state;
  if (auto i = st.subscribers.find(id); i != st.subscribers.end()) {
    auto& sub = i->second;
    sub.outstanding.erase(std::find(sub.outstanding.begin(), sub.outstanding.end(), d));
    --sub.in_flight;
  }
  if (auto& pending = d->pending) {
    if (ack) {
      auto& applied = pending->ack.models[d->slot].applied;
      applied.reserve(ack->applied.size());
      for (auto j : ack->applied)
        applied.push_back(pending->published_index[j]);
    }
    done_one(self, pending);
  }
  for (auto& p : d->passing)
    done_one(self, p);
  pump(self, id);
}

// Sends one delivery to `sub` and tracks it until it is answered.
template <class... Ts>
void send_delivery(bus_self self, subscriptions::subscriber_id id,
                   bus_state::subscriber& sub, std::shared_ptr<outstanding_delivery> d,
                   Ts&&... xs) {
  ++sub.in_flight;
  sub.outstanding.push_back(d);
  self
    ->request(sub.handle, self->state.options.delivery_timeout, std::forward<Ts>(xs)...)
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

// Sends `batch` as covering [covers_from, batch.last_seq()].
void send_push(bus_self self, subscriptions::subscriber_id id,
               bus_state::subscriber& sub, const event_batch& batch,
               std::uint64_t covers_from, pending_ptr pending, std::size_t slot) {
  auto d = std::make_shared<outstanding_delivery>();
  if (pending)
    d->batch = batch;
  d->pending = std::move(pending);
  d->slot = slot;
  send_delivery(self, id, sub, std::move(d), deliver_atom::value, batch, covers_from);
}

// Sends what a subscriber can take now: queued batches while its window has
// room; once nothing is in flight, the gap it must pull (lagging) or a
// progress note past the seqs of no interest to it.
void pump(bus_self self, subscriptions::subscriber_id id) {
  auto& st = self->state;
  auto i = st.subscribers.find(id);
  if (i == st.subscribers.end())
    return;
  auto& sub = i->second;
  using mode = bus_state::delivery_mode;
  while (sub.in_flight < st.options.max_in_flight && !sub.queued.empty()) {
    auto q = std::move(sub.queued.front());
    sub.queued.pop_front();
    if (q.batch.empty()) {
      // A batch was withheld here: what follows must show the gap.
      sub.mode = mode::lagging;
      continue;
    }
    // Lagging, it covers only itself: the projector pulls what is before.
    auto covers_from = sub.mode == mode::lagging ? q.batch.first_seq()
                                                 : sub.announced + 1;
    sub.mode = mode::in_step;
    sub.announced = q.batch.last_seq();
    send_push(self, id, sub, q.batch, covers_from, std::move(q.pending), q.slot);
  }
  // Progress notes and catch-up pushes wait until nothing is in flight, so
  // that one of them covers everything passed meanwhile.
  if (sub.in_flight > 0 || !sub.queued.empty())
    return;
  if (sub.mode == mode::lagging) {
    // An empty push past the covered range: the projector pulls up to it.
    auto d = std::make_shared<outstanding_delivery>();
    d->passing = std::move(sub.passing);
    sub.passing.clear();
    sub.mode = mode::in_step;
    sub.announced = sub.covered;
    send_delivery(self, id, sub, std::move(d), deliver_atom::value, event_batch{},
                  sub.covered + 1);
  } else if (sub.covered > sub.announced) {
    auto d = std::make_shared<outstanding_delivery>();
    d->passing = std::move(sub.passing);
    sub.passing.clear();
    auto from = sub.announced + 1;
    sub.announced = sub.covered;
    send_delivery(self, id, sub, std::move(d), progress_atom::value, from, sub.covered);
  } else if (!sub.passing.empty()) {
    // Announced already (by a delivery that settled first): nothing to wait for.
    auto passing = std::move(sub.passing);
    sub.passing.clear();
    for (auto& p : passing)
      done_one(self, p);
  }
}

} // namespace

void fan_out(bus_self self, const event_batch& batch, pending_ptr pending) {
  auto& st = self->state;
  auto wanted = st.subs.subscribers_of(distinct_types(batch));
  std::vector<subscriptions::subscriber_id> touched;
  touched.reserve(st.subscribers.size());
  for (auto& [id, sub] : st.subscribers) {
    touched.push_back(id);
    sub.covered = batch.last_seq();
    auto awaited = pending && sub.role == model_role::live;
    if (std::find(wanted.begin(), wanted.end(), id) == wanted.end()) {
      if (awaited) {
        ++pending->remaining;
        sub.passing.push_back(pending);
      }
      continue;
    }
    if (awaited) {
      ++pending->remaining;
      auto slot = pending->ack.models.size();
      // A partition acknowledges under its model's name: one event goes
      // to one partition, so the model's entries never overlap.
      pending->ack.models.push_back(model_ack{std::string{model_of(sub.name)}, {}});
      sub.queued.push_back({batch, pending, slot});
    } else if (sub.in_flight < st.options.max_in_flight && sub.queued.empty()) {
      sub.queued.push_back({batch, nullptr, 0});
    } else if (sub.queued.empty()) {
      // Too far behind, and nobody waits: withhold the push. The
      // projector pulls the log when its next push shows the gap.
      sub.mode = bus_state::delivery_mode::lagging;
    } else if (!sub.queued.back().batch.empty()) {
      // Withheld behind queued batches: the gap takes its place in the
      // queue (one for a run of withheld batches), so that the queued
      // ones still cover their own ranges and only what follows pulls.
      sub.queued.push_back({event_batch{}, nullptr, 0});
    }
  }
  for (auto id : touched)
    pump(self, id);
  if (pending)
    done_one(self, pending);
}

void push_again(bus_self self, const event_batch& batch) {
  auto& st = self->state;
  for (auto id : st.subs.subscribers_of(distinct_types(batch))) {
    auto& sub = st.subscribers.at(id);
    // A subscriber whose window is full pulls the log anyway.
    if (sub.in_flight >= st.options.max_in_flight)
      continue;
    // Covers only its own range: every seq of it was announced before.
    send_push(self, id, sub, batch, batch.first_seq(), nullptr, 0);
  }
}

namespace {

// Removes the subscriber with address `who` and returns it, if there is one.
std::optional<bus_state::subscriber> take_subscriber(bus_self self,
                                                     const caf::actor_addr& who) {
  auto& st = self->state;
  auto i = std::find_if(st.subscribers.begin(), st.subscribers.end(),
                        [&](const auto& kv) {
                          return kv.second.handle.address() == who;
                        });
  if (i == st.subscribers.end())
    return std::nullopt;
  auto sub = std::move(i->second);
  st.subs.unsubscribe(i->first);
  st.subscribers.erase(i);
  return sub;
}

} // namespace

bool drop_subscriber(bus_self self, const caf::actor_addr& who) {
  auto taken = take_subscriber(self, who);
  if (!taken)
    return false;
  auto& sub = *taken;
  // Whatever it did not answer, it took none of: its publishers go on
  // without it, and it (or its replacement) pulls from the log later.
  for (auto& d : sub.outstanding) {
    d->settled = true;
    if (d->pending)
      done_one(self, d->pending);
    for (auto& p : d->passing)
      done_one(self, p);
  }
  for (auto& q : sub.queued)
    if (q.pending)
      done_one(self, q.pending);
  for (auto& p : sub.passing)
    done_one(self, p);
  return true;
}

bool hand_over_subscriber(bus_self self, const caf::actor_addr& who,
                          projector_actor successor) {
  auto taken = take_subscriber(self, who);
  if (!taken)
    return false;
  auto& sub = *taken;
  auto& st = self->state;
  // The awaited batches it left unanswered go to the successor; what it was
  // merely carried past ends here, as in drop_subscriber.
  std::vector<event_batch> batches;
  std::vector<std::pair<pending_ptr, std::size_t>> awaiting;
  for (auto& d : sub.outstanding) {
    d->settled = true; // its own late answers are dropped
    if (d->pending) {
      batches.push_back(d->batch);
      awaiting.emplace_back(d->pending, d->slot);
    }
    for (auto& p : d->passing)
      done_one(self, p);
  }
  for (auto& q : sub.queued) {
    if (q.pending) {
      batches.push_back(q.batch);
      awaiting.emplace_back(q.pending, q.slot);
    }
  }
  for (auto& p : sub.passing)
    done_one(self, p);
  // Also with nothing to answer: the successor then drops its record.
  self
    ->request(successor, st.options.delivery_timeout, handed_over_atom::value,
              std::move(batches))
    .then(
      [self, awaiting](std::vector<delivery_ack>& acks) {
        for (std::size_t k = 0; k < awaiting.size(); ++k) {
          auto& [pending, slot] = awaiting[k];
          if (k < acks.size()) {
            auto& applied = pending->ack.models[slot].applied;
            for (auto j : acks[k].applied)
              if (j < pending->published_index.size())
                applied.push_back(pending->published_index[j]);
          }
          done_one(self, pending);
        }
      },
      [self, awaiting](caf::error&) {
        // Gone too: its publishers go on without the model, as when a
        // subscriber is dropped.
        for (auto& entry : awaiting)
          done_one(self, entry.first);
      });
  return true;
}

std::uint32_t publishes_in_flight(bus_self self, const caf::actor_addr& publisher) {
  if (!publisher)
    return 0;
  auto& publishing = self->state.publishing;
  auto i = publishing.find(publisher);
  return i == publishing.end() ? 0 : i->second;
}

void hold_publish(bus_self self, const caf::actor_addr& publisher) {
  if (publisher)
    ++self->state.publishing[publisher];
}

pending_publish::~pending_publish() {
  if (!promise.pending())
    return;
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  for (auto i : published_index) {
    auto seq = ack.outcomes[i].seq;
    first = first == 0 ? seq : std::min(first, seq);
    last = std::max(last, seq);
  }
  promise.deliver(make_error(errc::model_unavailable,
                             "the bus stopped before every projector answered for seq "
                               + std::to_string(first) + " to " + std::to_string(last)
                               + ": the events are in the log; which read models "
                                 "applied them is not known"));
}

void answer_publish(bus_self self, caf::typed_response_promise<publish_ack>& promise,
                    caf::expected<publish_ack> answer,
                    const caf::actor_addr& publisher) {
  auto& publishing = self->state.publishing;
  // An anonymous publisher was never counted (hold_publish).
  if (auto i = publisher ? publishing.find(publisher) : publishing.end();
      i != publishing.end() && --i->second == 0)
    publishing.erase(i);
  if (answer)
    promise.deliver(std::move(*answer));
  else
    promise.deliver(std::move(answer.error()));
}

} // namespace internal

} // namespace bus::actors
