// The invariants, checked at quiescent points (see simulator.hpp).

#include <algorithm>
#include <map>
#include <set>

#include <boost/json/serialize.hpp>

#include "recording_model.hpp"
#include "runner.hpp"

namespace bus::sim {

namespace {

const char* state_name(const actors::projector_state& st) {
  using actors::projector_phase;
  switch (st.phase) {
    case projector_phase::paused:
      return "paused";
    case projector_phase::detached:
      return "disconnected";
    case projector_phase::rebuilding:
      return "rebuilding";
    case projector_phase::running:
      return "running";
    default:
      return "catching_up";
  }
}

} // namespace

void runner::fail(invariant what, std::string detail) {
  if (!options_.checked(what))
    return;
  for (auto& v : result_.violations)
    if (v.what == what)
      return;
  note(std::string{"BROKEN "} + to_string(what) + ": " + detail);
  result_.violations.push_back({what, detail});
  if (!failed())
    result_.failure = violation{what, std::move(detail)};
}

void runner::check(rest r) {
  check_found();
  check_queries();
  check_mailboxes();
  check_folds();
  check_acks_logged();
  check_publish_order();
  check_checkpoints();
  if (r != rest::idle) {
    check_lag(r);
    mark_stable();
  }
  if (r == rest::final) {
    check_ack_models();
    for (auto& what : journal_->unanswered)
      fail(invariant::liveness, what + " was never answered (timed out)");
    if (journal_->open_requests != 0)
      fail(invariant::liveness, std::to_string(journal_->open_requests)
                                  + " lifecycle request(s) never answered");
    for (auto& p : journal_->publishes)
      if (!p.ack && !p.failed)
        fail(invariant::liveness,
             "publish #" + std::to_string(p.number) + " never answered");
  }
}

void runner::check_found() {
  for (auto& v : journal_->found)
    fail(v.what, v.detail);
}

void runner::check_mailboxes() {
  for (auto& [name, size] : world_->mailboxes()) {
    // Lifecycle requests the simulator has open may all wait in one
    // projector's mailbox: clients bound those, not the bus.
    auto bound = world_->mailbox_bound(name, options_.mailbox_slack
                                               + journal_->open_requests);
    if (size > bound)
      fail(invariant::mailbox, name + " holds " + std::to_string(size)
                                 + " messages (bound " + std::to_string(bound) + ")");
  }
}

void runner::check_folds() {
  // A model is the fold of the log up to its checkpoint without its parked
  // events and those it discarded: it applied exactly that set of seqs
  // (recording_model), and its state is a fresh instance's fold of those
  // events in the order it applied them (a retry applies a parked event
  // after later ones; the order checks say when that is allowed).
  auto& log = world_->log();
  std::map<std::uint64_t, const event*> by_seq;
  std::vector<event_batch> batches;
  for_each_batch(log, [&](const event_batch& batch) { batches.push_back(batch); });
  for (auto& batch : batches)
    for (auto& e : batch)
      by_seq[e.seq] = &e;
  for (auto& v : world_->projectors()) {
    auto* st = world_->state_of(v.handle);
    if (st == nullptr || st->failure)
      continue;
    auto fresh = spec_of(v.model).make();
    auto upto = st->processed.watermark();
    auto sparse = st->processed.sparse();
    if (!sparse.empty())
      upto = std::max(upto, sparse.back());
    if (upto > log.durable_head()) {
      fail(invariant::fold, v.model + " (" + v.role + ") processed up to seq "
                              + std::to_string(upto) + " past the durable head "
                              + std::to_string(log.durable_head()));
      return;
    }
    auto* rec = recording_of(*st->model);
    if (rec == nullptr)
      continue;
    auto& recorded = *rec;
    auto& discarded = recorded.discarded();
    // A partition's fold takes the events of its keys only.
    std::set<std::uint64_t> expected;
    for (auto& [seq, e] : by_seq)
      if (seq <= upto && st->processed.contains(seq) && fresh->handles(e->type)
          && st->parked.find(seq) == nullptr && discarded.count(seq) == 0
          && holds(v.model, *fresh, *e))
        expected.insert(seq);
    auto& order = recorded.applied_order();
    std::set<std::uint64_t> applied(order.begin(), order.end());
    auto what = v.model + " (" + v.role + ", checkpoint "
                + std::to_string(st->processed.watermark()) + ", "
                + std::to_string(st->parked.size()) + " parked) ";
    if (applied != expected) {
      std::string extra;
      std::string missing;
      for (auto seq : applied)
        if (expected.count(seq) == 0)
          extra += " " + std::to_string(seq);
      for (auto seq : expected)
        if (applied.count(seq) == 0)
          missing += " " + std::to_string(seq);
      fail(invariant::fold, what + "applied seqs the fold leaves out [" + extra
                              + " ] and not seqs it takes [" + missing + " ]");
      continue;
    }
    for (auto seq : order)
      fresh->apply(*by_seq.at(seq));
    auto expected_state = fresh->snapshot();
    auto actual = recorded.inner_snapshot();
    if (expected_state != actual)
      fail(invariant::fold, what + "is " + boost::json::serialize(actual)
                              + ", a fold of the log gives "
                              + boost::json::serialize(expected_state));
    check_parked(v, *st, *fresh, applied, by_seq);
  }
}

void runner::check_parked(const projector_view& v, const actors::projector_state& st,
                          const read_model& fresh,
                          const std::set<std::uint64_t>& applied,
                          const std::map<std::uint64_t, const event*>& by_seq) {
  // Per-key order, independently of the lot's own bookkeeping: no event of
  // a key is applied after a parked event of that key.
  if (spec_of(v.model).recovery.order != key_order::per_key)
    return;
  std::map<std::string, std::uint64_t> first;
  for (auto& x : st.parked.list())
    if (auto key = fresh.key_of(x.event))
      first.emplace(*key, x.event.seq); // list() is in seq order
  if (first.empty())
    return;
  for (auto seq : applied) {
    auto key = fresh.key_of(*by_seq.at(seq));
    if (!key)
      continue;
    auto i = first.find(*key);
    if (i != first.end() && seq > i->second)
      fail(invariant::out_of_order, v.model + " (" + v.role + ") applied seq "
                                      + std::to_string(seq) + " of key " + *key
                                      + " though seq " + std::to_string(i->second)
                                      + " of that key is parked (per-key order)");
  }
}

void runner::check_acks_logged() {
  auto& log = world_->log();
  for (auto& p : journal_->publishes) {
    if (!p.ack)
      continue;
    for (auto& o : p.ack->outcomes) {
      auto seq = log.find(o.id);
      if (!seq || *seq != o.seq || o.seq > log.durable_head())
        fail(invariant::ack_lost, "publish #" + std::to_string(p.number)
                                    + " acknowledged " + o.id + " at seq "
                                    + std::to_string(o.seq) + "; the log has it "
                                    + (seq ? "at seq " + std::to_string(*seq) : "not"));
    }
  }
}

void runner::check_publish_order() {
  if (!one_session_ || !options_.checked(invariant::publish_order))
    return;
  // The events the session's publishes got logged, by when each was made.
  std::map<std::size_t, std::pair<std::string, std::uint64_t>> logged;
  for (auto& p : journal_->publishes) {
    if (!p.ack)
      continue;
    for (auto& o : p.ack->outcomes)
      if (!o.duplicate && journal_->abandoned.count(o.id) == 0)
        if (auto i = created_.find(o.id); i != created_.end())
          logged.emplace(i->second, std::pair{o.id, o.seq});
  }
  const std::pair<std::string, std::uint64_t>* before = nullptr;
  for (auto& [made, at] : logged) {
    if (before && at.second < before->second) {
      fail(invariant::publish_order,
           at.first + " is at seq " + std::to_string(at.second) + ", before "
             + before->first + " (seq " + std::to_string(before->second)
             + "), which the session sent first");
      return;
    }
    before = &at;
  }
}

void runner::check_checkpoints() {
  for (auto& v : world_->projectors()) {
    if (v.role != "live")
      continue;
    auto* st = world_->state_of(v.handle);
    if (st == nullptr)
      continue;
    auto& seen = seen_[v.model];
    auto now = st->processed.watermark();
    // A new projector (restart, switch, new node) or a rebuild starts over.
    if (seen.handle == v.handle.address() && seen.rebuilds == st->rebuilds
        && now < seen.checkpoint)
      fail(invariant::checkpoint_backwards, v.model + " went from checkpoint "
                                              + std::to_string(seen.checkpoint)
                                              + " back to " + std::to_string(now));
    seen = {v.handle.address(), st->rebuilds, now};
  }
}

void runner::check_lag(rest r) {
  auto head = world_->log().durable_head();
  auto views = world_->projectors();
  for (auto& spec : raw_) {
    auto& rec = journal_->models[spec.name];
    bool remote = std::find(remote_names_.begin(), remote_names_.end(), spec.name)
                  != remote_names_.end();
    if (remote && world_->node_phase() == phase::down)
      continue;
    // Each partition of a partitioned model is a slot of its own; only the
    // one holding the poisoned event's key fails on it.
    for (auto& slot : slots_of(spec)) {
      auto live = std::find_if(views.begin(), views.end(),
                               [&](const projector_view& v) {
                                 return v.model == slot && v.role == "live";
                               });
      auto slot_state = world_->slot_state(slot);
      // Paused after a failed attempt, a model waits with it (its retry was
      // abandoned): it fails only once resumed.
      auto* paused_st = live == views.end() ? nullptr : world_->state_of(live->handle);
      if (paused_st != nullptr && paused_st->phase == actors::projector_phase::paused
          && r != rest::final)
        continue;
      if (stopped_for_good(spec.name) && poisoned_slot(slot, spec)) {
        if (slot_state != "failed")
          fail(invariant::failed_state, slot + " throws on every apply of seq "
                                          + std::to_string(rec.poison.pinned)
                                          + " but its state is " + slot_state);
        continue;
      }
      if (live == views.end() || slot_state != "running") {
        fail(invariant::failed_state,
             slot + " is down (" + slot_state + ") though nothing keeps it down");
        continue;
      }
      auto* st = world_->state_of(live->handle);
      if (st == nullptr
          || (st->phase == actors::projector_phase::paused && r != rest::final))
        continue;
      // An operator's pause holds until the operator resumes the model.
      if (r != rest::final && world_->kept_paused(slot)) {
        fail(invariant::failed_state,
             slot + " is " + state_name(*st) + " though it was paused and not resumed");
        continue;
      }
      // A model that parks its poison goes on, with the event parked.
      auto pinned = rec.poison.pinned;
      auto* recorded = st->model ? recording_of(*st->model) : nullptr;
      if (rec.poison.remaining < 0 && pinned != 0 && st->processed.contains(pinned)
          && poisoned_slot(slot, spec) && st->parked.find(pinned) == nullptr
          && (recorded == nullptr || recorded->discarded().count(pinned) == 0))
        fail(invariant::failed_state, slot + " throws on every apply of seq "
                                        + std::to_string(pinned)
                                        + " but has not parked it");
      if (r == rest::final && !st->parked.empty())
        fail(invariant::fold, slot + " still has " + std::to_string(st->parked.size())
                                + " parked event(s) after the final retry of them all");
      auto cp = st->processed.watermark();
      if (cp != head || std::string{state_name(*st)} != "running")
        fail(invariant::lag, slot + " at rest is " + state_name(*st) + " at checkpoint "
                               + std::to_string(cp) + ", the durable head is "
                               + std::to_string(head));
    }
  }
}

void runner::mark_stable() {
  // Steady from now on: up, subscribed to the current bus, at the head.
  if (world_->bus_phase() == phase::down)
    return;
  // A partitioned model is steady when every partition is.
  auto views = world_->projectors();
  for (auto& spec : raw_) {
    bool steady = true;
    for (auto& slot : slots_of(spec)) {
      auto live = std::find_if(views.begin(), views.end(),
                               [&](const projector_view& v) {
                                 auto* st = world_->state_of(v.handle);
                                 return v.model == slot && v.role == "live"
                                        && v.slot_state == "running" && st != nullptr
                                        && std::string{state_name(*st)} == "running";
                               });
      steady = steady && live != views.end();
    }
    auto& rec = journal_->models[spec.name];
    if (steady && rec.stable_since == 0)
      rec.stable_since = journal_->tick();
  }
}

void runner::check_ack_models() {
  for (auto& p : journal_->publishes) {
    if (!p.ack || !p.await)
      continue;
    for (std::uint32_t i = 0; i < p.ack->outcomes.size(); ++i) {
      auto& o = p.ack->outcomes[i];
      if (o.duplicate)
        continue;
      std::vector<std::string> named;
      for (auto& m : p.ack->models)
        if (std::find(m.applied.begin(), m.applied.end(), i) != m.applied.end())
          named.push_back(m.model.substr(0, m.model.find('~')));
      auto what = "publish #" + std::to_string(p.number) + " event " + o.id + " (seq "
                  + std::to_string(o.seq) + "): ";
      // Named: the model took the event before the ack came.
      for (auto& name : named) {
        auto& took = journal_->models[name].took_at[o.seq];
        if (std::none_of(took.begin(), took.end(),
                         [&](std::uint64_t t) { return t < p.acked_at; }))
          fail(invariant::ack_models,
               what + "the ack names " + name + ", which had not applied it"
                 + (journal_->models[name].threw.count(o.seq) ? " (it parked it)"
                                                              : ""));
      }
      // Steady throughout and takes the event: must be named.
      for (auto& name : p.steady) {
        auto& m = journal_->models[name];
        auto took = m.took_at.find(o.seq);
        if (took == m.took_at.end())
          continue;
        // Only takes before the model's first disturbance after the ack
        // count: a late take (bug 1's symptom) is still caught, but not a
        // take by a later history, e.g. a fresh projector replaying an
        // event that the acked one had rightly parked behind its key.
        auto next = std::upper_bound(m.disturbances.begin(), m.disturbances.end(),
                                     p.acked_at);
        auto until = next == m.disturbances.end() ? ~std::uint64_t{0} : *next;
        if (std::none_of(took->second.begin(), took->second.end(),
                         [&](std::uint64_t t) { return t < until; }))
          continue;
        if (std::find(named.begin(), named.end(), name) != named.end())
          continue;
        // Two ways to be left out: not counted as a target of the publish
        // at all, or sent the batch and answered without this event.
        bool listed = std::any_of(p.ack->models.begin(), p.ack->models.end(),
                                  [&](const actors::model_ack& ack) {
                                    return ack.model == name;
                                  });
        fail(invariant::ack_models,
             what + "the ack leaves out " + name
               + ", which was steady throughout and applied it ("
               + (listed ? "listed, without this event" : "not listed at all") + ")");
      }
    }
  }
}

} // namespace bus::sim
