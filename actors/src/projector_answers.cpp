// What a projector answers about itself and its model: status, queries,
// and the supervisor's watches (see projector.hpp).

#include "internal/projector_parts.hpp"

#include <optional>

#include <caf/all.hpp>

#include "bus/errc.hpp"
#include "internal/model_code.hpp"

namespace bus::internal {

using namespace actors;

namespace {

// The state a status reports for a projector in phase `x`.
model_state state_of(projector_phase x) noexcept {
  switch (x) {
    case projector_phase::restoring:
      return model_state::restoring;
    case projector_phase::approaching:
    case projector_phase::catching_up:
    case projector_phase::filling_gap:
      return model_state::catching_up;
    case projector_phase::rebuilding:
      return model_state::rebuilding;
    case projector_phase::running:
    case projector_phase::frozen: // still the live one, for a few messages
      return model_state::running;
    case projector_phase::detached:
      return model_state::disconnected;
    case projector_phase::paused:
    case projector_phase::pausing: // paused, on its way to its frozen state
      return model_state::paused;
  }
  return model_state::catching_up;
}

} // namespace

projector_status status_of(projector_ptr self) {
  auto& st = self->state;
  projector_status result;
  result.model = st.model_name;
  result.state = state_of(st.phase);
  result.checkpoint = st.processed.watermark();
  result.checkpoint_timestamp = st.checkpoint_timestamp;
  result.applied = st.applied;
  result.skipped = st.skipped;
  result.ignored = st.ignored;
  result.replayed = st.replayed;
  result.rebuilds = st.rebuilds;
  result.parked = st.parked.size();
  result.apply_latency = st.apply_latency;
  // Its own mailbox, read from inside its own handler (never another's).
  result.mailbox = self->mailbox().size();
  result.restored_rows = st.restore ? st.restore->progress.rows.load()
                                    : st.restored_rows;
  if ((st.phase == projector_phase::paused || st.phase == projector_phase::pausing)
      && st.frozen_at)
    result.frozen_at = *st.frozen_at;
  return result;
}

void tell_watcher(projector_ptr self) {
  auto& st = self->state;
  auto checkpoint = st.processed.watermark();
  if (st.watch == 0 || checkpoint < st.watch || !st.watcher)
    return;
  st.watch = 0;
  self->send(st.watcher, applied_atom::value, checkpoint);
}

// Answers with the status now, or once the current catch-up is done.
caf::result<projector_status> when_caught_up(projector_ptr self) {
  auto& st = self->state;
  if (!behind(st.phase))
    return status_of(self);
  auto rp = self->make_response_promise<projector_status>();
  st.waiting.push_back(rp);
  return rp;
}

caf::result<query_result> answer_query(projector_ptr self, std::string& key) {
  auto& state = self->state;
  // Still restoring, catching up or rebuilding it would answer from a past
  // state; paused, it answers from its frozen state only (frozen_at), and
  // status shows the lag. Filling a gap, it holds every event acknowledged for it:
  // later ones it has not seen yet are as in flight to a running projector.
  if (restoring(state.phase)) {
    auto rows = state.restore ? state.restore->progress.rows.load() : 0;
    return make_error(errc::model_unavailable,
                      "read model '" + state.model_name + "' is restoring its "
                        + (state.storage == model_storage::sqlite ? "table"
                                                                  : "snapshot")
                        + " (" + std::to_string(rows) + " rows so far)");
  }
  auto& model = *state.model;
  if (!answers_queries(state.phase)) {
    auto what = std::string{state.phase == projector_phase::detached
                              ? "waiting for its bus"
                            : state.phase == projector_phase::rebuilding ? "rebuilding"
                            : state.phase == projector_phase::pausing
                              ? "paused, replaying up to where it was paused"
                              : "catching up"}
                + " (at seq " + std::to_string(state.processed.watermark());
    if (state.catch_up_target > state.processed.watermark())
      what += " of " + std::to_string(state.catch_up_target);
    return make_error(errc::model_unavailable,
                      "read model '" + model.name() + "' is " + what + ")");
  }
  if (state.phase == projector_phase::paused) {
    auto at = state.processed.watermark();
    if (!state.frozen_at || *state.frozen_at != at) {
      auto why = state.frozen_at
                   ? "it was paused at seq " + std::to_string(*state.frozen_at)
                   : std::string{"it was paused part of the way"};
      return make_error(errc::model_unavailable,
                        "read model '" + model.name() + "' is paused at seq "
                          + std::to_string(at) + ", not at the state it answered from ("
                          + why + "): resume it to catch up");
    }
  }
  // What the model throws is the caller's answer, not the projector's end:
  // one bad key must not take the model down for every other.
  std::optional<boost::json::value> value;
  if (auto threw = model_threw([&] { value = model.query(key); }))
    return make_error(errc::query_failed, "read model '" + model.name()
                                            + "' failed on query '" + key
                                            + "': " + *threw);
  if (value)
    return query_result{model.name(), std::move(key), std::move(*value)};
  return make_error(errc::no_such_key,
                    "read model '" + model.name() + "' has no key '" + key + "'");
}

caf::result<model_snapshot> answer_snapshot(projector_ptr self) {
  auto& state = self->state;
  auto& model = *state.model;
  boost::json::value taken;
  if (auto threw = model_threw([&] { taken = model.snapshot(); }))
    return make_error(errc::query_failed, "read model '" + model.name()
                                            + "' failed taking a snapshot: " + *threw);
  return model_snapshot{model.name(), state.processed.watermark(), std::move(taken)};
}

void watch_for(projector_ptr self, std::uint64_t seq) {
  // A push, not a response promise: the supervisor keeps every wait (and
  // its deadline) and asks its projector only for the lowest seq, so a
  // projector holds one watch whatever the number of waiters, and a
  // restart loses nothing the supervisor cannot ask the new one again.
  auto& state = self->state;
  state.watcher = caf::actor_cast<supervisor_actor>(self->current_sender());
  if (seq == 0) { // nothing to wait for (0 is "no watch" below)
    self->send(state.watcher, applied_atom::value, state.processed.watermark());
    return;
  }
  state.watch = seq;
  tell_watcher(self);
}

} // namespace bus::internal
