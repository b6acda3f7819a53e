// The scenario: the configuration a seed draws and the steps it takes.

#include <algorithm>
#include <cstdlib>
#include <iostream>

#include "bus/partitions.hpp"
#include "model_mix.hpp"
#include "recording_model.hpp"
#include "runner.hpp"

namespace bus::sim {

namespace {

template <class T>
const T& choose(std::mt19937_64& rng, const std::vector<T>& xs) {
  return xs[rng() % xs.size()];
}

} // namespace

runner::runner(const std::vector<model_spec>& models, const sim_options& options,
               std::uint64_t seed)
  : options_(options), rng_(seed), journal_(std::make_shared<journal>()), raw_(models) {
  result_.seed = seed;
  // Drawn first: the rest of the configuration is per model.
  auto mix = options_.enabled(fault::model_counts) ? choose_models(rng_, models)
                                                   : all_models(models);
  raw_ = std::move(mix.specs);
  base_ = std::move(mix.base);
  world_config config;
  config.bus.max_in_flight = options_.enabled(fault::backpressure) && rng_() % 5 != 0
                               ? 1 + rng_() % 4
                               : 64;
  config.pipeline = options_.enabled(fault::pipelining) ? 1 + rng_() % 6 : 1;
  config.sync_interval = options_.enabled(fault::sync_failure) && rng_() % 2 == 0
                           ? std::chrono::milliseconds{5}
                           : std::chrono::milliseconds{0};
  // Under group commit, a group of 1-6 events, or of 1-4 held replies, is
  // committed without waiting for the timer in two runs of three each.
  // Drawn from a generator of its own, so that every other draw of a
  // recorded seed stays what it was.
  if (config.sync_interval.count() > 0) {
    std::mt19937_64 own{seed ^ 0x9e3779b97f4a7c15u};
    if (own() % 3 != 0)
      config.bus.sync_after_events = static_cast<std::uint32_t>(1 + own() % 6);
    if (own() % 3 != 0)
      config.bus.sync_after_replies = static_cast<std::uint32_t>(1 + own() % 4);
  }
  // One run in two publishes from one session, in order (drawn on its
  // own too): only then does the client's order mean anything to the log.
  config.one_session = std::mt19937_64{seed ^ 0x5e55104e5e55104eu}() % 2 == 0;
  one_session_ = config.one_session;
  config.projector.replay_batch = 1 + rng_() % 8;
  // 1 to 4 replay requests under way, from the batch's draw rather than a
  // draw of its own: a recorded seed replays what it did before.
  config.projector.replay_ahead = 1 + config.projector.replay_batch * 7 % 4;
  config.projector.retry_delay = std::chrono::milliseconds{20};
  // Snapshots every 1-6 events in two runs of three (drawn only when
  // enabled: a run without them draws what it drew before they existed).
  if (options_.enabled(fault::snapshots) && rng_() % 3 != 0) {
    config.projector.snapshot_every = 1 + rng_() % 6;
    // In half of those, the projectors record changed keys rather than
    // rows after 0 to 300 bytes of rows (a writer fallen behind). A
    // generator of its own keeps a recorded seed's other draws.
    std::mt19937_64 own{seed ^ 0x5851f42d4c957f2du};
    if (own() % 2 == 0)
      config.projector.snapshot_rows_at_most = own() % 301;
  }
  config.policy.initial_backoff = std::chrono::milliseconds{10};
  config.policy.max_backoff = std::chrono::milliseconds{40};
  config.policy.max_restarts = 2;
  config.policy.restart_window = std::chrono::milliseconds{60000};
  // A model failed for good: never retried, retried after a short cool-down
  // (so that runs see the half-open retry), or after the default minute.
  switch (rng_() % 3) {
    case 0:
      config.policy.cooldown = std::chrono::milliseconds{0};
      break;
    case 1:
      config.policy.cooldown = std::chrono::milliseconds{300};
      config.policy.max_cooldown = std::chrono::milliseconds{1200};
      break;
    default:
      break;
  }
  cooldown_ = config.policy.cooldown.count() > 0;
  // Each model's recovery policy (a user's models too): park per key, park
  // in no order, or stop; 1-3 attempts, short backoffs.
  for (auto& spec : raw_) {
    auto roll = rng_() % 3;
    spec.recovery.then = roll == 2 ? on_poison::stop : on_poison::park;
    spec.recovery.order = roll == 1 ? key_order::none : key_order::per_key;
    spec.recovery.attempts = 1 + static_cast<std::uint32_t>(rng_() % 3);
    spec.recovery.backoff = std::chrono::milliseconds{1 + rng_() % 20};
    spec.recovery.max_backoff = std::chrono::milliseconds{40};
  }
  // Some models run on a remote node when the seed has one.
  std::vector<model_spec> local;
  std::vector<model_spec> remote;
  bool with_node = raw_.size() > 1 && rng_() % 2 == 0;
  std::string policies;
  for (std::size_t i = 0; i < raw_.size(); ++i) {
    auto& r = raw_[i].recovery;
    policies += std::string{policies.empty() ? "" : ", "} + raw_[i].name + " "
                + to_string(r.then) + "/" + to_string(r.order) + "/"
                + std::to_string(r.attempts) + "x" + std::to_string(r.backoff.count())
                + "ms";
    auto spec = recorded(raw_[i], journal_);
    journal_->models[spec.name];
    if (with_node && i > 0 && rng_() % 2 == 0)
      remote.push_back(spec);
    else
      local.push_back(spec);
  }
  for (auto& s : remote)
    remote_names_.push_back(s.name);
  // Partitions last (drawn only when enabled: a run without them draws
  // what it drew before they existed).
  if (options_.enabled(fault::partitions))
    draw_partitions(local, remote);
  // Tables, from a generator of their own (a recorded seed draws what it drew
  // before they existed): in two runs of three, each model that tracks its
  // changes is kept in a table with a chance of one half.
  std::string tabled;
  if (options_.enabled(fault::tables)) {
    std::mt19937_64 own{seed ^ 0x7f4a7c159e3779b9u};
    if (own() % 3 != 0) {
      for (auto* specs : {&local, &remote})
        for (auto& spec : *specs)
          if (own() % 2 == 0 && spec.make()->track_changes()) {
            spec.storage = model_storage::sqlite;
            tabled += (tabled.empty() ? "" : " ") + spec.name;
          }
      config.tables = !tabled.empty();
    }
  }
  std::string names;
  for (auto& spec : raw_)
    names += (names.empty() ? "" : " ") + spec.name
             + (spec.partitions > 1
                  ? "(" + std::to_string(spec.partitions) + " partitions)"
                  : "");
  note("models: " + names);
  std::string on_node;
  for (auto& r : remote)
    on_node += (on_node.empty() ? " (" : " ") + r.name;
  if (!on_node.empty())
    on_node += ")";
  note(
    "config: window " + std::to_string(config.bus.max_in_flight) + ", pipeline "
    + std::to_string(config.pipeline)
    + (config.one_session ? " from one session" : " from a client each")
    + ", sync interval " + std::to_string(config.sync_interval.count())
    + " ms (a group of " + std::to_string(config.bus.sync_after_events) + " events or "
    + std::to_string(config.bus.sync_after_replies) + " replies at once), replay batch "
    + std::to_string(config.projector.replay_batch) + " (ahead "
    + std::to_string(config.projector.replay_ahead) + "), "
    + std::to_string(remote.size()) + " model(s) on node-b" + on_node
    + ", snapshots every " + std::to_string(config.projector.snapshot_every)
    + " (rows up to " + std::to_string(config.projector.snapshot_rows_at_most) + " B)"
    + ", tables: " + (tabled.empty() ? std::string{"none"} : tabled) + ", cool-down "
    + std::to_string(config.policy.cooldown.count()) + " ms; recovery: " + policies);
  world_ = std::make_unique<world>(std::move(local), std::move(remote), config,
                                   journal_, rng_);
}

sim_result runner::run() {
  if (!world_->settle()) {
    fail(invariant::liveness, "the system did not come to rest after start");
    stop_ = true;
  } else
    check(rest::settled);
  for (std::size_t i = 0; i < options_.steps && !stop_; ++i) {
    ++result_.steps;
    one_step();
    check_found();
    check_queries();
    check_mailboxes();
  }
  if (!stop_) {
    note("final: heal everything, resume paused models, settle");
    heal(true);
    heal_parking();
    if (!stop_ && !world_->settle()) {
      fail(invariant::liveness, "the system did not come to rest at the end");
      stop_ = true;
    } else
      check(rest::final);
  }
  result_.head = world_->log().durable_head();
  // A system that never came to rest still has actors that keep running
  // (a retry loop): the actor system's destructor would wait for them for
  // ever. The run's world is leaked instead, and the violation reported.
  if (stop_)
    (void) world_.release();
  if (!options_.trace)
    result_.trace.clear();
  return result_;
}

void runner::note(std::string what) {
  // BUS_SIM_LIVE=1 prints steps as they happen: for a run that hangs.
  static const bool live = std::getenv("BUS_SIM_LIVE") != nullptr;
  if (live)
    std::cerr << result_.steps << ": " << what << std::endl;
  if (options_.trace)
    result_.trace.push_back(std::to_string(result_.steps) + ": " + std::move(what));
}

void runner::draw_partitions(std::vector<model_spec>& local,
                             std::vector<model_spec>& remote) {
  // One key-local model in three runs as 2-4 partitions (the supervisor
  // runs any other model whole).
  for (auto& spec : raw_) {
    if (rng_() % 3 != 0 || !is_key_local(spec))
      continue;
    spec.partitions = 2 + static_cast<std::uint32_t>(rng_() % 3);
    for (auto* side : {&local, &remote})
      for (auto& s : *side)
        if (s.name == spec.name)
          s.partitions = spec.partitions;
    for (auto& part : partition_specs(spec))
      partition_specs_.emplace(part.name, std::move(part));
  }
}

std::vector<std::string> runner::slots_of(const model_spec& spec) const {
  std::vector<std::string> result;
  if (spec.partitions <= 1)
    result.push_back(spec.name);
  else
    for (std::uint32_t i = 0; i < spec.partitions; ++i)
      result.push_back(partition_name(spec.name, i));
  return result;
}

bool runner::holds(const std::string& slot, const read_model& model,
                   const event& e) const {
  auto ref = split_partition_name(slot);
  if (!ref)
    return true;
  auto& spec = spec_of(std::string{ref->model});
  auto key = model.key_of(e);
  return partition_of(key ? std::string_view{*key} : std::string_view{},
                      spec.partitions)
         == ref->index;
}

std::string runner::pick_model() {
  return choose(rng_, raw_).name;
}

void runner::one_step() {
  auto roll = rng_() % 100;
  if (roll < 30)
    publish();
  else if (roll < 54) {
    if (options_.enabled(fault::queries) && rng_() % 3 == 0)
      query();
    else
      run_jobs();
  } else if (roll < 58)
    fire_timeout();
  else if (roll < 62)
    redeliver();
  else if (roll < 65)
    poison(1);
  else if (roll < 67)
    poison(-1);
  else if (roll < 74)
    lifecycle();
  else if (roll < 78)
    blue_green();
  else if (roll < 82)
    node_fault();
  else if (roll < 86)
    bus_fault();
  else if (roll < 89)
    sync_fault();
  else if (roll < 92)
    parked_step();
  else if (roll < 93)
    operator_restart();
  else if (roll < 97) {
    note("quiescent point (jobs done)");
    if (!world_->drain()) {
      fail(invariant::liveness, "jobs kept coming after 20000 steps");
      stop_ = true;
    } else
      check(rest::idle);
  } else {
    // With the bus down, projectors and the connector retry for ever:
    // rest needs the crashed parts back.
    heal(false);
    note("quiescent point (timers fired too)");
    if (!world_->settle()) {
      fail(invariant::liveness, "the system did not come to rest");
      stop_ = true;
    } else
      check(rest::settled);
  }
}

void runner::publish() {
  auto& cfg = world_->config();
  std::size_t outstanding = 0;
  for (auto& p : journal_->publishes)
    outstanding += !p.ack && !p.failed;
  if (world_->bus_phase() == phase::down || outstanding >= cfg.pipeline
      || (next_event_ >= options_.max_events && journal_->resend.empty())) {
    run_jobs();
    return;
  }
  if (!journal_->resend.empty()) {
    // A failed commit: the client waits for every answer under way, then
    // resends what failed or was refused behind it, in the order it first
    // sent them, before anything new.
    if (outstanding > 0) {
      run_jobs();
      return;
    }
    resend();
    return;
  }
  auto n = 1 + rng_() % 5;
  // A session redelivers what it had acknowledged. An event still under
  // way, redelivered at the head of a later publish, would pass for the
  // resend of a failed one (publish_order::as_sent cannot tell them apart).
  auto& redeliverable = one_session_ ? acknowledged() : published_;
  std::vector<event> batch;
  std::string ids;
  for (std::size_t i = 0; i < n; ++i) {
    bool dup = options_.enabled(fault::duplicates) && !redeliverable.empty()
               && rng_() % 8 == 0;
    if (dup) {
      batch.push_back(choose(rng_, redeliverable));
    } else {
      auto e = options_.events ? options_.events(rng_, next_event_)
                               : shop_event(rng_, next_event_);
      created_.emplace(e.id, next_event_);
      ++next_event_;
      published_.push_back(e);
      batch.push_back(std::move(e));
    }
    ids += (ids.empty() ? "" : " ") + batch.back().id + (dup ? "(dup)" : "") + ":"
           + batch.back().type;
  }
  bool await = rng_() % 5 != 0;
  send_publish(std::move(batch), await, "publish", ids);
}

const std::vector<event>& runner::acknowledged() {
  acknowledged_.clear();
  std::set<std::string> acked;
  for (auto& p : journal_->publishes)
    if (p.ack)
      for (auto& o : p.ack->outcomes)
        acked.insert(o.id);
  for (auto& e : published_)
    if (acked.count(e.id) != 0)
      acknowledged_.push_back(e);
  return acknowledged_;
}

void runner::resend() {
  auto batch = std::move(journal_->resend);
  journal_->resend.clear();
  // In the order first sent, each once.
  std::stable_sort(batch.begin(), batch.end(), [this](const event& x, const event& y) {
    return created_[x.id] < created_[y.id];
  });
  batch.erase(std::unique(batch.begin(), batch.end(),
                          [](const event& x, const event& y) { return x.id == y.id; }),
              batch.end());
  std::string ids;
  for (auto& e : batch)
    ids += (ids.empty() ? "" : " ") + e.id + ":" + e.type;
  send_publish(std::move(batch), true, "resend", ids);
}

void runner::send_publish(std::vector<event> batch, bool await, const std::string& what,
                          const std::string& ids) {
  publish_record rec;
  rec.number = journal_->publishes.size();
  rec.events = batch;
  rec.await = await;
  rec.sent_at = journal_->tick();
  journal_->publishes.push_back(rec);
  note(what + " #" + std::to_string(rec.number) + " of "
       + std::to_string(rec.events.size()) + " event(s) [" + ids + "]"
       + (await ? " awaiting projectors" : ""));
  auto j = journal_;
  auto number = rec.number;
  auto done = [j, number](caf::expected<actors::publish_ack> ack) {
    auto& p = j->publishes[number];
    if (!ack) {
      p.failed = true;
      p.error = ack.error();
      j->publish_failed(p);
      j->request_failed(ack.error(), p.sent_at, "publish #" + std::to_string(number));
      return;
    }
    p.ack = std::move(*ack);
    p.acked_at = j->tick();
    // The models that were steady for the whole publish: each of them
    // must be named for every event it takes (checked at the end).
    for (auto& [name, m] : j->models)
      if (m.stable_since != 0 && m.stable_since < p.sent_at)
        p.steady.push_back(name);
  };
  auto wait = await ? actors::publish_wait::projectors : actors::publish_wait::log;
  if (one_session_)
    world_->request_in_order<actors::publish_ack>(
      world_->bus(), done, actors::publish_atom::value, std::move(batch), wait);
  else
    world_->request<actors::publish_ack>(
      world_->bus(), done, actors::publish_atom::value, std::move(batch), wait);
}

void runner::run_jobs() {
  auto n = 1 + rng_() % 12;
  note("run " + std::to_string(n) + " job(s)");
  for (std::size_t i = 0; i < n && world_->step(); ++i)
    check_mailboxes();
}

void runner::fire_timeout() {
  // Only the system's own short timers (sync, backoffs, retries, dials):
  // jumping a client's minute ahead while jobs wait would make it time
  // out on a system that merely had not run yet.
  auto& clock = world_->sched().clock();
  if (!options_.enabled(fault::early_timeouts) || clock.schedule().empty()
      || clock.schedule().begin()->first - clock.current_time
           > std::chrono::seconds{1}) {
    run_jobs();
    return;
  }
  note("fire the next timeout");
  world_->sched().trigger_timeout();
}

void runner::redeliver() {
  auto head = world_->log().durable_head();
  if (!options_.enabled(fault::redelivery) || world_->bus_phase() == phase::down
      || head == 0) {
    run_jobs();
    return;
  }
  std::uint64_t from = 1 + rng_() % head;
  note("redeliver from seq " + std::to_string(from));
  world_->request<std::uint64_t>(
    world_->bus(), [](caf::expected<std::uint64_t>) {}, actors::redeliver_atom::value,
    from);
}

void runner::poison(int times) {
  auto kind = times < 0 ? fault::poison_always : fault::poison_once;
  auto model = pick_model();
  auto& plan = journal_->models[model].poison;
  // One model that stops for good at a time: the others stay checkable.
  bool stops = spec_of(model).recovery.then == on_poison::stop;
  if (!options_.enabled(kind) || plan.remaining != 0 || plan.pinned != 0
      || (times < 0 && stops && poisoned_always_)) {
    run_jobs();
    return;
  }
  poisoned_always_ = poisoned_always_ || (times < 0 && stops);
  plan.from = world_->log().head() + 1 + rng_() % 4;
  plan.remaining = times;
  note("poison " + model + ": apply throws " + (times < 0 ? "always" : "once")
       + " on its first event from seq " + std::to_string(plan.from));
}

} // namespace bus::sim
