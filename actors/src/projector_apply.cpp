// Applying batches to the read model: skipping what was processed before,
// trying again an event the model throws on (after a backoff, without
// blocking the actor), parking it when its attempts are spent, and parking
// later events of its key behind it. Also the operator's requests on parked
// events.

#include "internal/projector_parts.hpp"

#include <chrono>
#include <exception>
#include <set>

#include <caf/all.hpp>

#include "bus/errc.hpp"
#include "internal/model_code.hpp"

namespace bus::internal {

namespace {

using actors::delivery_ack;
using actors::parked_list;

// The reason a projector fails with when its model throws on `e`.
caf::error apply_failure(const read_model& model, const event& e,
                         std::string_view what) {
  return make_error(errc::apply_failed, "read model '" + model.name()
                                          + "' failed on event '" + e.id + "' (seq "
                                          + std::to_string(e.seq) + ", type " + e.type
                                          + "): " + std::string{what});
}

// The key that orders `e` among the model's events, if it has one. A
// model whose key_of throws has none for that event.
std::optional<std::string> key_of(const read_model& model, const event& e) {
  std::optional<std::string> result;
  if (model_threw([&] { result = model.key_of(e); }))
    return std::nullopt;
  return result;
}

// Upcasts `e` for the model (upcasters.hpp): returns `e` itself when no
// upcaster takes it, else the upcast copy in `scratch`; nullptr when an
// upcaster threw, with its text in `what`.
const event* upcast_for_model(const actors::projector_state& st, const event& e,
                              std::optional<event>& scratch,
                              std::optional<std::string>& what) {
  if (!st.upcasters)
    return &e;
  const event* result = nullptr;
  what = model_threw([&] { result = &st.upcasters->upcast(e, scratch); });
  return what ? nullptr : result;
}

} // namespace

std::string_view type_seen(const actors::projector_state& st, const event& e,
                           std::string& buffer) {
  if (!st.upcasters)
    return e.type;
  buffer = st.upcasters->target_of(e.type, e.schema_version).first;
  return buffer;
}

std::string stored_definition(const actors::projector_state& st,
                              const read_model& model) {
  auto result = model.definition();
  if (st.upcasters)
    result += st.upcasters->definition_of(model.event_types());
  return result;
}

namespace {

// True when `e` must park behind a parked event of its key (and parks it,
// as logged); `seen` is its upcast form, which the key is read from.
bool parked_behind(actors::projector_state& st, const event& e, const event& seen) {
  if (st.parked.empty() || st.parked.order() != key_order::per_key)
    return false;
  auto key = key_of(*st.model, seen);
  return key && st.parked.park_behind(e, *key, now_ms());
}

// Parks `e` as logged, which failed `attempts` times with `what`.
void park(actors::projector_state& st, const event& e, std::string what,
          std::uint32_t attempts) {
  parked_event x;
  x.event = e;
  std::optional<event> scratch;
  std::optional<std::string> upcast_error;
  if (auto* seen = upcast_for_model(st, e, scratch, upcast_error))
    x.key = key_of(*st.model, *seen);
  x.reason = park_reason::failed;
  x.error = std::move(what);
  x.attempts = attempts;
  x.parked_at = now_ms();
  st.parked.park(std::move(x));
}

enum class event_outcome { next, suspend, fail };

// Decides what follows a failed apply of `work.batch[work.next]`.
event_outcome on_failure(projector_ptr self, suspended_batch& work, std::string what) {
  auto& st = self->state;
  auto& e = work.batch[work.next];
  ++work.attempts;
  if (work.attempts < st.recovery.attempts) {
    self->delayed_send(self, st.recovery.delay_before(work.attempts + 1),
                       actors::reapply_atom::value, st.suspend_epoch);
    return event_outcome::suspend;
  }
  if (st.recovery.then == on_poison::stop) {
    fail(self, apply_failure(*st.model, e, what));
    return event_outcome::fail;
  }
  park(st, e, std::move(what), work.attempts);
  return event_outcome::next;
}

// Applies the events of `work` from `work.next` on that are new and of a
// handled type, then marks the batch's whole range processed.
apply_outcome apply_events(projector_ptr self, suspended_batch& work) {
  auto& st = self->state;
  auto& model = *st.model;
  auto& batch = work.batch;
  auto& ack = work.ack;
  // Publish-to-applied latency, of live events only: a pulled event's age
  // is how far behind the projector was, not how fast the bus is.
  std::int64_t now = 0;
  if (!work.replaying && !batch.empty())
    now = std::chrono::duration_cast<std::chrono::nanoseconds>(
            std::chrono::system_clock::now().time_since_epoch())
            .count();
  for (; work.next < batch.size(); ++work.next, work.attempts = 0) {
    auto i = static_cast<std::uint32_t>(work.next);
    auto& logged = batch[i];
    if (st.processed.contains(logged.seq)) {
      std::string buffer;
      if (model.handles(type_seen(st, logged, buffer))) {
        ++st.skipped;
        ack.skipped.push_back(i);
      }
      continue;
    }
    // The model sees the upcast form; the log and the parking lot keep the
    // event as logged. An upcaster that throws fails as the model would.
    std::optional<event> scratch;
    std::optional<std::string> what;
    auto* seen = upcast_for_model(st, logged, scratch, what);
    if (what || (model.handles(seen->type) && !parked_behind(st, logged, *seen))) {
      bool took = false;
      if (!what) {
        auto& e = *seen;
        what = model_threw([&] { took = model.apply(e); });
        // Also after a throw: what the model changed before it is its state.
        if (!capture_changes(self))
          return apply_outcome::failed;
      }
      if (what) {
        switch (on_failure(self, work, std::move(*what))) {
          case event_outcome::suspend:
            return apply_outcome::suspended;
          case event_outcome::fail:
            return apply_outcome::failed;
          case event_outcome::next:
            break;
        }
      } else if (took) {
        ++st.applied;
        if (st.took)
          st.took->insert(logged.seq);
        if (work.replaying)
          ++st.replayed;
        else if (logged.timestamp > 0)
          st.apply_latency.observe(now - logged.timestamp);
        ack.applied.push_back(i);
      } else {
        ++st.ignored;
      }
    }
    st.processed.insert(logged.seq);
  }
  st.processed.advance_to(batch.last_seq());
  if (!batch.empty())
    st.checkpoint_timestamp = batch.back().timestamp;
  ack.checkpoint = st.processed.watermark();
  return apply_outcome::done;
}

// Runs a batch hook; an exception from it fails the projector.
template <class F>
bool run_hook(projector_ptr self, const char* which, F&& f) {
  auto what = model_threw(std::forward<F>(f));
  if (!what)
    return true;
  fail(self, make_error(errc::apply_failed,
                        std::string{"batch hook '"} + which + "' of read model '"
                          + self->state.model->name() + "' failed: " + *what));
  return false;
}

parked_list listing(const actors::projector_state& st, std::uint64_t done) {
  boost::json::array entries;
  for (auto& x : st.parked.list())
    entries.push_back(to_json(x));
  return parked_list{st.model->name(), done, std::move(entries)};
}

} // namespace

apply_outcome apply_batch(projector_ptr self, suspended_batch& work) {
  auto& st = self->state;
  auto& hooks = st.options.hooks;
  auto& model = *st.model;
  auto& batch = work.batch;
  auto fresh = work.next == 0 && work.attempts == 0;
  if (fresh && hooks.before && !batch.empty()
      && !run_hook(self, "before", [&] { hooks.before(model, batch); }))
    return apply_outcome::failed;
  auto outcome = apply_events(self, work);
  if (outcome == apply_outcome::suspended) {
    st.suspended = std::move(work);
    tell_watcher(self); // the events before the suspended one are applied
    return outcome;
  }
  if (outcome == apply_outcome::failed)
    return outcome;
  // The rows, checkpoint, processed ids and parked events are durable
  // before the ack: answer_applied holds it until the commit.
  if (st.table && !batch.empty())
    table_changed(self);
  if (hooks.after && !batch.empty() && !run_hook(self, "after", [&] {
        hooks.after(model, batch, work.ack.applied.size());
      }))
    return apply_outcome::failed;
  maybe_snapshot(self); // after the hooks: a hook may be the commit
  if (st.failure)
    return apply_outcome::failed;
  tell_watcher(self);
  return apply_outcome::done;
}

void pass_to(actors::projector_state& st, std::uint64_t covers_to, delivery_ack& ack) {
  if (covers_to <= st.processed.watermark())
    return;
  st.processed.advance_to(covers_to);
  ack.checkpoint = st.processed.watermark();
}

void abandon_suspended(actors::projector_state& st) {
  if (!st.suspended)
    return;
  ++st.suspend_epoch;
  auto work = std::move(*st.suspended);
  st.suspended.reset();
  if (work.promise) {
    work.ack.checkpoint = st.processed.watermark();
    answer_applied(st, std::move(*work.promise), std::move(work.ack));
  }
}

parked_list list_parked(projector_ptr self) {
  return listing(self->state, 0);
}

caf::result<parked_list> retry_parked(projector_ptr self, std::uint64_t seq) {
  auto& st = self->state;
  std::vector<parked_event> taken;
  if (seq == 0) {
    taken = st.parked.take_all();
  } else {
    auto xs = st.parked.take(seq);
    if (!xs)
      return std::move(xs.error());
    taken = std::move(*xs);
  }
  // In seq order: one that fails again parks again, and the rest of its key
  // parks behind it, as live events would.
  std::uint64_t done = 0;
  for (auto& x : taken) {
    auto& e = x.event;
    std::optional<event> scratch;
    std::optional<std::string> what;
    auto* seen = upcast_for_model(st, e, scratch, what);
    if (seen != nullptr && parked_behind(st, e, *seen))
      continue;
    bool took = false;
    if (seen != nullptr) {
      what = model_threw([&] { took = st.model->apply(*seen); });
      if (!capture_changes(self))
        return st.failure;
    }
    if (what) {
      park(st, e, std::move(*what), x.attempts + 1);
      continue;
    }
    ++done;
    if (took) {
      ++st.applied;
      if (st.took)
        st.took->insert(e.seq);
    } else {
      ++st.ignored;
    }
  }
  return persist_now(self, listing(st, done));
}

caf::result<parked_list> discard_parked(projector_ptr self, std::uint64_t seq) {
  auto& st = self->state;
  std::uint64_t done = 0;
  if (seq == 0) {
    for (auto& x : st.parked.list())
      st.dropped.insert(x.seq());
    done = st.parked.discard_all();
  } else {
    auto x = st.parked.discard(seq);
    if (!x)
      return std::move(x.error());
    st.dropped.insert(seq);
    done = 1;
  }
  return persist_now(self, listing(st, done));
}

} // namespace bus::internal
