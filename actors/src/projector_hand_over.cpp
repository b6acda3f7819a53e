// The projector's side of a blue/green hand-over (see blue_green_switch.cpp):
// the live projector freezes while the switch is checked, and is thawed
// (the switch is held) or paused with its successor named (the switch is
// done); the successor answers the pushes it held. Also the checks that
// decide whether the shadow lacks an event the live projector applied.

#include "internal/projector_parts.hpp"

#include <set>

#include <caf/all.hpp>

#include "bus/errc.hpp"

namespace bus::internal {

using namespace actors;

namespace {

// True when this projector's model may have taken `e`, as far as its state
// tells without a record: processed, of a type the model handles, and
// neither parked, dropped nor still being tried. An event the model ignored
// (apply returned false) passes too: only a record tells it apart.
bool may_have_taken(const projector_state& st, const event& e) {
  auto seq = e.seq;
  if (seq > st.processed.watermark() || st.parked.find(seq) != nullptr
      || st.dropped.count(seq) > 0)
    return false;
  if (st.suspended && st.suspended->next < st.suspended->batch.size()
      && st.suspended->batch[st.suspended->next].seq == seq)
    return false;
  std::string buffer;
  return st.model->handles(type_seen(st, e, buffer));
}

} // namespace

projector_status freeze(projector_ptr self) {
  auto& st = self->state;
  // A paused projector applies nothing anyway; it is promoted back as is.
  if (st.phase != projector_phase::paused && st.phase != projector_phase::pausing
      && st.phase != projector_phase::frozen) {
    st.thaw_to = st.phase;
    enter(st, projector_phase::frozen);
    drop_pulls(st); // the thaw pulls from the checkpoint again
  }
  return status_of(self);
}

void thaw(projector_ptr self) {
  auto& st = self->state;
  if (st.phase != projector_phase::frozen)
    return;
  enter(st, st.thaw_to);
  if (st.phase == projector_phase::detached) {
    subscribe(self); // lost its bus while frozen
    return;
  }
  // A retry that came while frozen was put off.
  if (st.suspended)
    self->send(self, reapply_atom::value, st.suspend_epoch);
  pull(self); // then drains the pushes it held
}

projector_status pause(projector_ptr self, projector_actor successor,
                       std::optional<std::uint64_t> frozen_at) {
  auto& state = self->state;
  // Pausing, it goes on up to where its model was paused.
  if (state.phase == projector_phase::paused
      || state.phase == projector_phase::pausing) {
    if (frozen_at && !state.frozen_at)
      state.frozen_at = frozen_at;
    return status_of(self);
  }
  // Its frozen state is the one it answers from now; paused on the way to
  // one (catching up, rebuilding, without its bus), it has none, unless
  // told where its model was paused before (a new projector).
  if (answers_queries(state.phase) || state.phase == projector_phase::frozen)
    state.frozen_at = state.processed.watermark();
  else
    state.frozen_at = frozen_at;
  enter(state, projector_phase::paused);
  // Leave first: with a successor, the bus hands it the pushes this one
  // holds, before their unapplied answers below reach it (and are dropped).
  if (state.subscribed) {
    if (successor)
      self
        ->request(state.bus, state.options.bus_timeout, unsubscribe_atom::value,
                  projector_actor{self}, std::move(successor))
        .then([](bool) {}, [](caf::error&) {});
    else
      self
        ->request(state.bus, state.options.bus_timeout, unsubscribe_atom::value,
                  projector_actor{self})
        .then([](bool) {}, [](caf::error&) {});
  }
  state.subscribed = false;
  // Answer held pushes unapplied: publishers must not wait for a paused
  // model. The log keeps the events for the resume, which pulls from the
  // checkpoint: replay answers still under way are not applied either.
  release_held(state);
  drop_pulls(state);
  // A resume or ready still waiting for its catch-up is answered now: the
  // catch-up will not happen until the next resume.
  auto waiting = std::move(state.waiting);
  state.waiting.clear();
  for (auto& rp : waiting)
    rp.deliver(status_of(self));
  return status_of(self);
}

std::vector<delivery_ack> took_of(projector_state& st,
                                  const std::vector<event_batch>& batches) {
  std::vector<delivery_ack> result;
  result.reserve(batches.size());
  for (auto& batch : batches) {
    auto& ack = result.emplace_back();
    ack.checkpoint = st.processed.watermark();
    for (std::size_t i = 0; i < batch.size(); ++i) {
      auto& e = batch[i];
      // Past the checkpoint, or past the seal (the checkpoint once it was
      // live and caught up): pushed to this projector too, which answers
      // that push itself.
      if (e.seq > st.processed.watermark()
          || (st.took && e.seq > st.took->sealed_through()))
        continue;
      // Without a mark (its record slid past the seq), only a model that
      // never ignored an event surely took what it may have taken.
      auto took = st.took && st.took->covers(e.seq)
                    ? st.took->contains(e.seq)
                    : st.ignored == 0 && may_have_taken(st, e);
      if (took)
        ack.applied.push_back(static_cast<std::uint32_t>(i));
    }
  }
  st.took.reset(); // the one hand-over is done
  return result;
}

parked_list not_applied(const projector_state& st, const parked_list& theirs) {
  boost::json::array kept;
  if (auto* xs = theirs.entries.if_array())
    for (auto& x : *xs) {
      auto y = parked_event_from_json(x);
      if (y && !may_have_taken(st, y->event))
        kept.push_back(x);
    }
  return parked_list{theirs.model, 0, std::move(kept)};
}

caf::error lacking(const actors::projector_state& st, const parked_list& excused,
                   std::uint64_t through) {
  std::set<std::uint64_t> ok;
  if (auto* xs = excused.entries.if_array())
    for (auto& x : *xs)
      if (auto y = parked_event_from_json(x))
        ok.insert(y->seq());
  // Named up to a few, so that a key's long tail parked behind its first
  // event does not make the text huge.
  constexpr std::size_t named = 20;
  std::string seqs;
  std::size_t count = 0;
  auto check = [&](std::uint64_t seq) {
    if (seq > through || ok.count(seq) != 0)
      return;
    if (count++ < named)
      seqs += (seqs.empty() ? "" : ", ") + std::to_string(seq);
  };
  for (auto& x : st.parked.list())
    check(x.seq());
  // An event still being tried again parks or applies later, as the new
  // live projector, after the old one applied it.
  if (st.suspended && st.suspended->next < st.suspended->batch.size())
    check(st.suspended->batch[st.suspended->next].seq);
  if (count == 0)
    return caf::none;
  if (count > named)
    seqs += " and " + std::to_string(count - named) + " more";
  return make_error(errc::precondition_failed,
                    "the projector taking over '" + st.model->name()
                      + "' has not applied seq(s) " + seqs
                      + " that the one it would replace applied: they are parked"
                        " or still being tried");
}

} // namespace bus::internal
