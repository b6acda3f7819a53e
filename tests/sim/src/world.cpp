#include "world.hpp"

#include "recording_model.hpp"

#include "bus/actors/init.hpp"
#include "bus/errc.hpp"
#include "bus/partitions.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <utility>

#include <unistd.h>

namespace bus::sim {

namespace {

caf::actor_system_config& testing(caf::actor_system_config& cfg) {
  cfg.set("scheduler.policy", caf::atom("testing"));
  cfg.set("logger.verbosity", caf::atom("quiet"));
  bus::init(cfg);
  return cfg;
}

template <class State, class Handle>
State& state_of_actor(const Handle& h) {
  auto ptr = caf::actor_cast<caf::abstract_actor*>(h);
  using impl = typename Handle::template stateful_base<State>;
  return dynamic_cast<impl&>(*ptr).state;
}

} // namespace

world::world(std::vector<model_spec> local, std::vector<model_spec> remote,
             world_config config, journal_ptr log, std::mt19937_64& rng)
  : sys_(testing(cfg_)),
    sched_(dynamic_cast<caf::scheduler::test_coordinator&>(sys_.scheduler())),
    rng_(rng),
    journal_(std::move(log)),
    config_(std::move(config)),
    local_(std::move(local)),
    remote_(std::move(remote)),
    log_(std::make_shared<sim_log>(config_.sync_interval)),
    dead_(std::make_shared<std::set<caf::actor_addr>>()) {
  if (config_.projector.snapshot_every > 0)
    snapshot_files_.push_back(config_.projector.snapshot_path = snapshot_file());
  // One models database for the whole run: like the log, it outlives every
  // projector, node and bus.
  if (config_.tables)
    snapshot_files_.push_back(config_.projector.models_path = snapshot_file()
                                                              + ".models");
  bus_log_ = std::make_shared<fenced_log>(log_);
  bus_ = actors::spawn_bus(sys_, bus_log_, config_.bus);
  reachable_ = std::make_shared<actors::bus_actor>(bus_);
  session_ = sys_.spawn([](caf::event_based_actor* self) -> caf::behavior {
    return {[self](session_job& job) { job.send(self); }};
  });
  sched_.run();
  local_sup_ = actors::spawn_supervisor(sys_, bus_, local_, config_.policy,
                                        config_.projector);
  if (!remote_.empty())
    start_node();
  sched_.run();
}

world::~world() {
  // Stop everything, then let the system drain: a pending timer would keep
  // an actor alive and hang the actor system's destructor.
  if (connector_)
    caf::anon_send_exit(connector_, caf::exit_reason::kill);
  if (node_sup_ && *node_sup_)
    caf::anon_send_exit(*node_sup_, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(local_sup_, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(bus_, caf::exit_reason::kill);
  caf::anon_send_exit(session_, caf::exit_reason::kill);
  for (auto& p : node_projectors_)
    caf::anon_send_exit(p, caf::exit_reason::kill);
  for (auto& sup : node_sups_)
    caf::anon_send_exit(sup, caf::exit_reason::kill);
  for (int i = 0; i < 1000; ++i) {
    sched_.run();
    if (sched_.trigger_timeouts() == 0 && !sched_.has_job())
      break;
  }
  // Every file of the run: a restarted bus gets a fresh one.
  for (auto& path : snapshot_files_) {
    std::error_code ec;
    for (auto suffix : {"", "-journal", "-wal", "-shm"})
      std::filesystem::remove(path + suffix, ec);
  }
}

std::string world::snapshot_file() {
  // In memory where the system has it (/dev/shm): a run writes a snapshot
  // every few events, and thousands of runs follow each other.
  static std::atomic<std::uint64_t> counter{0};
  std::error_code ec;
  auto dir = std::filesystem::path{"/dev/shm"};
  if (!std::filesystem::is_directory(dir, ec))
    dir = std::filesystem::temp_directory_path();
  return (dir
          / ("bus-sim-" + std::to_string(::getpid()) + "-" + std::to_string(counter++)
             + ".snapshots"))
    .string();
}

bool world::step() {
  auto& jobs = sched_.jobs;
  if (jobs.empty())
    return false;
  auto pick = static_cast<std::ptrdiff_t>(rng_() % jobs.size());
  if (pick != 0)
    std::rotate(jobs.begin(), jobs.begin() + pick, jobs.begin() + pick + 1);
  static const bool live = std::getenv("BUS_SIM_JOBS") != nullptr;
  if (live)
    if (auto* a = dynamic_cast<caf::scheduled_actor*>(jobs.front()))
      std::cerr << "  job " << a->name() << " #" << a->id() << " "
                << (a->mailbox().peek() ? caf::to_string(a->mailbox().peek()->content())
                                        : std::string{"-"})
                << "\n";
  auto* job = jobs.front();
  note_parking(job, true);
  note_query(job);
  sched_.run_once();
  note_parking(job, false);
  note_node_spawns(job);
  return true;
}

void world::note_parking(caf::resumable* job, bool before) {
  // Before: a projector about to run an operator's retry may apply parked
  // events below seqs it applied (journal::retrying); one about to run a
  // discard tells its model which seqs it discards, so that the snapshot
  // the discard takes carries them. After: a projector that got a discard
  // before its first run tells its model what it dropped only now.
  if (!before) {
    journal_->retrying = false;
    if (discard_at_start_
        && job
             == dynamic_cast<caf::resumable*>(
               caf::actor_cast<caf::abstract_actor*>(discard_at_start_))) {
      auto* ptr = caf::actor_cast<caf::abstract_actor*>(discard_at_start_);
      if (ptr->getf(caf::abstract_actor::is_terminated_flag)) {
        discard_at_start_ = actors::projector_actor{};
        return;
      }
      auto& st = state_of_actor<actors::projector_state>(discard_at_start_);
      if (st.model == nullptr)
        return; // still restoring: its parked events are not back yet
      discard_at_start_ = actors::projector_actor{};
      // The snapshot the discard took does not carry the record; the
      // model's next one does.
      if (auto* rec = recording_of(*st.model))
        rec->discard(st.dropped);
    }
    return;
  }
  auto* a = dynamic_cast<caf::scheduled_actor*>(job);
  if (a == nullptr || std::string{a->name()} != actors::projector_state::name)
    return;
  auto* next = a->mailbox().peek();
  if (next == nullptr)
    return;
  auto& msg = next->content();
  if (msg.match_elements<actors::unpark_atom, std::uint64_t>()) {
    journal_->retrying = true;
  } else if (msg.match_elements<actors::drop_parked_atom, std::uint64_t>()) {
    auto p = caf::actor_cast<actors::projector_actor>(a);
    auto& st = state_of_actor<actors::projector_state>(p);
    if (st.model == nullptr) {
      // It has never run, or it is restoring: its parked events come back
      // with its model, and the discard runs once they are.
      discard_at_start_ = p;
      return;
    }
    auto seq = msg.get_as<std::uint64_t>(1);
    std::set<std::uint64_t> seqs;
    for (auto& x : st.parked.list())
      if (seq == 0 || x.event.seq == seq)
        seqs.insert(x.event.seq);
    if (auto* rec = st.model ? recording_of(*st.model) : nullptr)
      rec->discard(seqs);
  }
}

bool world::only_cooldowns() {
  // A cool-down is the supervisor's restart timer of a slot that is failed
  // (a backoff restart is one of a slot that is restarting).
  using simple_clock = caf::detail::simple_actor_clock;
  for (auto& [due, ev] : sched_.clock().schedule()) {
    (void) due;
    if (ev->subtype != simple_clock::actor_msg_type)
      return false;
    auto& x = static_cast<const simple_clock::actor_msg&>(*ev);
    auto& msg = x.content->content();
    if (!msg.match_elements<actors::restart_atom, std::uint64_t, std::uint64_t>())
      return false;
    auto index = msg.get_as<std::uint64_t>(1);
    auto generation = msg.get_as<std::uint64_t>(2);
    auto sup = caf::actor_cast<actors::supervisor_actor>(x.receiver);
    watch(sup.address(), caf::actor_cast<caf::abstract_actor*>(sup));
    if (dead(sup.address()))
      continue; // a timer of a crashed node's supervisor goes nowhere
    auto& slots = state_of_actor<actors::supervisor_state>(sup).slots;
    if (index >= slots.size() || slots[index].generation != generation
        || slots[index].state != actors::model_state::failed)
      return false;
  }
  return true;
}

void world::note_node_spawns(caf::resumable* job) {
  // Every projector a node's supervisor spawns is noted the moment it
  // does: a crash must take all of them, also one spawned by a message the
  // supervisor handled after the crash was decided.
  for (auto& sup : node_sups_) {
    if (job
        != dynamic_cast<caf::resumable*>(caf::actor_cast<caf::abstract_actor*>(sup)))
      continue;
    watch(sup.address(), caf::actor_cast<caf::abstract_actor*>(sup));
    if (dead(sup.address()))
      return;
    bool crashed = node_phase_ == phase::down || !node_sup_ || *node_sup_ != sup;
    sweep(sup, crashed);
    if (crashed) // spawned by a connector after its node crashed
      caf::anon_send_exit(sup, caf::exit_reason::kill);
    return;
  }
}

void world::sweep(const actors::supervisor_actor& sup, bool crashed) {
  for (auto& slot : state_of_actor<actors::supervisor_state>(sup).slots)
    for (auto* p :
         {&slot.handle, &slot.previous, slot.shadow ? &slot.shadow->handle : nullptr})
      if (p && *p) {
        // Once each: a crash sends one kill per projector, as a real one
        // would end each actor once.
        if (std::find(node_projectors_.begin(), node_projectors_.end(), *p)
            == node_projectors_.end())
          node_projectors_.push_back(*p);
        if (crashed)
          caf::anon_send_exit(*p, caf::exit_reason::kill);
      }
}

bool world::drain(std::size_t limit) {
  for (std::size_t i = 0; i < limit; ++i)
    if (!step())
      return true;
  return !sched_.has_job();
}

bool world::settle(std::size_t max_timeouts, bool fire_cooldowns) {
  for (std::size_t i = 0; i < max_timeouts; ++i) {
    if (!drain())
      return false;
    if (!sched_.has_pending_timeout() || (!fire_cooldowns && only_cooldowns()))
      return true;
    sched_.trigger_timeout();
  }
  return false;
}

void world::kill_bus() {
  caf::anon_send_exit(bus_, caf::exit_reason::kill);
  bus_log_->fence(); // dead from now on, whenever it reads its exit message
  *reachable_ = nullptr;
  bus_phase_ = phase::down;
  journal_->disturb_all();
  journal_->crashed_at = journal_->tick();
}

void world::restart_bus() {
  // The store survives: a new bus on the same log, and the local node's
  // supervisor moves its projectors to it. The remote node redials.
  if (config_.projector.snapshot_every > 0)
    snapshot_files_.push_back(config_.projector.snapshot_path = snapshot_file());
  bus_log_ = std::make_shared<fenced_log>(log_);
  bus_ = actors::spawn_bus(sys_, bus_log_, config_.bus);
  *reachable_ = bus_;
  bus_phase_ = phase::up;
  caf::anon_send(local_sup_, actors::rebind_atom::value, bus_);
  journal_->disturb_all();
}

bool world::kill_node() {
  if (node_phase_ != phase::up)
    return false;
  if (*node_sup_)
    watch(node_sup_->address(), caf::actor_cast<caf::abstract_actor*>(*node_sup_));
  // A supervisor that has not run yet would still spawn its projectors
  // when its first job runs, and they would outlive the crash; the node
  // crashes once its supervisor has started.
  if (*node_sup_ && !dead(node_sup_->address())
      && state_of_actor<actors::supervisor_state>(*node_sup_).slots.size()
           != remote_.size())
    return false;
  // A crash: every actor of the node dies at once, nothing is stopped
  // cleanly, and the bus learns of it through its monitors.
  if (*node_sup_ && !dead(node_sup_->address()))
    sweep(*node_sup_, false);
  for (auto& p : node_projectors_)
    caf::anon_send_exit(p, caf::exit_reason::kill);
  node_projectors_.clear();
  for (auto& sup : node_sups_)
    caf::anon_send_exit(sup, caf::exit_reason::kill);
  caf::anon_send_exit(connector_, caf::exit_reason::kill);
  node_phase_ = phase::down;
  journal_->crashed_at = journal_->tick();
  for (auto& s : remote_)
    journal_->disturb(s.name);
  return true;
}

void world::start_node() {
  auto target = reachable_;
  auto dialer = sys_.spawn(
    [target](actors::dialer_actor::pointer) -> actors::dialer_actor::behavior_type {
      return {
        [target](actors::dial_atom) -> caf::result<actors::bus_actor> {
          if (!*target)
            return make_error(errc::unreachable, "the bus is down");
          return *target;
        },
      };
    });
  actors::connector_options options;
  options.node = "node-b";
  // A partitioned model is shared (competing consumers): the bus assigns
  // node-b, its one sharer, every partition.
  for (auto& s : remote_)
    if (s.partitions > 1)
      options.shared.push_back({s.name, s.partitions});
    else
      options.models.push_back(s.name);
  options.initial_backoff = std::chrono::milliseconds{10};
  options.max_backoff = std::chrono::milliseconds{40};
  options.timeout = std::chrono::milliseconds{500};
  node_sup_ = std::make_shared<actors::supervisor_actor>();
  auto sup = node_sup_;
  auto specs = remote_;
  auto config = config_;
  auto* sys = &sys_;
  auto all = &node_sups_;
  auto make = [sup, specs, config, sys, all](actors::bus_actor b) {
    // As bus-projector: the bus assigns the partitions of shared models.
    auto projection = config.projector;
    projection.placement = actors::partition_placement::by_bus;
    *sup = actors::spawn_supervisor(*sys, b, specs, config.policy, projection);
    all->push_back(*sup);
    return *sup;
  };
  connector_ = actors::spawn_connector(sys_, dialer, make, options);
  node_phase_ = phase::up;
  for (auto& s : remote_)
    journal_->disturb(s.name);
}

actors::supervisor_actor world::supervisor_of(const std::string& model) const {
  // A partition ("m#1") runs where its model does.
  auto whole = model_of(model);
  for (auto& s : local_)
    if (s.name == whole)
      return local_sup_;
  if (node_phase_ == phase::up && node_sup_)
    return *node_sup_;
  return {};
}

void world::watch(const caf::actor_addr& who, caf::abstract_actor* ptr) {
  if (!watched_.insert(who).second)
    return;
  auto dead = dead_;
  ptr->attach_functor([dead, who](const caf::error&) { dead->insert(who); });
}

bool world::dead(const caf::actor_addr& who) const {
  return dead_->count(who) > 0;
}

std::vector<projector_view> world::projectors() {
  std::vector<projector_view> result;
  std::vector<actors::supervisor_actor> sups{local_sup_};
  if (node_phase_ == phase::up && node_sup_ && *node_sup_)
    sups.push_back(*node_sup_);
  for (auto& sup : sups) {
    watch(sup.address(), caf::actor_cast<caf::abstract_actor*>(sup));
    if (dead(sup.address()))
      continue;
    auto& st = state_of_actor<actors::supervisor_state>(sup);
    for (auto& slot : st.slots) {
      auto add = [&](const actors::projector_actor& h, const char* role,
                     const std::string& state) {
        if (!h)
          return;
        watch(h.address(), caf::actor_cast<caf::abstract_actor*>(h));
        if (!dead(h.address()))
          result.push_back({slot.spec.name, h, role, state});
      };
      add(slot.handle, "live", std::string{to_string(slot.state)});
      if (slot.shadow)
        add(slot.shadow->handle, "shadow", std::string{to_string(slot.shadow->state)});
      add(slot.previous, "previous", std::string{to_string(slot.state)});
    }
  }
  return result;
}

std::string world::slot_state(const std::string& model) {
  auto sup = supervisor_of(model);
  if (!sup)
    return "none";
  watch(sup.address(), caf::actor_cast<caf::abstract_actor*>(sup));
  if (dead(sup.address()))
    return "none";
  for (auto& slot : state_of_actor<actors::supervisor_state>(sup).slots)
    if (slot.spec.name == model)
      return std::string{to_string(slot.state)};
  return "none";
}

bool world::kept_paused(const std::string& model) {
  auto sup = supervisor_of(model);
  if (!sup)
    return false;
  watch(sup.address(), caf::actor_cast<caf::abstract_actor*>(sup));
  if (dead(sup.address()))
    return false;
  for (auto& slot : state_of_actor<actors::supervisor_state>(sup).slots)
    if (slot.spec.name == model)
      return slot.wanted == actors::supervisor_state::intent::pause;
  return false;
}

actors::projector_state* world::state_of(const actors::projector_actor& p) {
  watch(p.address(), caf::actor_cast<caf::abstract_actor*>(p));
  if (dead(p.address()))
    return nullptr;
  return &state_of_actor<actors::projector_state>(p);
}

std::vector<std::pair<std::string, std::size_t>> world::mailboxes() {
  // Only actors waiting in the coordinator's queue: reading the mailbox of
  // a blocked actor would unblock it without scheduling it.
  std::vector<std::pair<std::string, std::size_t>> result;
  for (auto* job : sched_.jobs)
    if (auto* a = dynamic_cast<caf::scheduled_actor*>(job)) {
      result.emplace_back(a->name(), a->mailbox().size());
      if (std::getenv("BUS_SIM_DUMP_MAILBOX") && a->mailbox().size() > 18) {
        a->mailbox().queue().peek_all([](const caf::mailbox_element& x) {
          std::fprintf(stderr, "  mailbox: %s\n",
                       caf::to_string(x.content()).substr(0, 120).c_str());
        });
      }
    }
  return result;
}

std::size_t world::mailbox_bound(const std::string& name, std::size_t slack) const {
  auto window = config_.bus.max_in_flight;
  // A projector holds at most its window of pushes plus a few requests;
  // anyone else at most the outstanding publishes plus every projector's
  // acks and pulls.
  if (name == "projector")
    return window + slack;
  // Each partition is a projector of its own, and one catching up has up
  // to replay_ahead replays under way, which may exceed its window of
  // acks. A rebuild or a resume replaces every partition at once: the
  // requests of the projectors it replaced still wait for the bus, hence
  // three generations of each.
  std::size_t projectors = 0;
  for (const auto* specs : {&local_, &remote_})
    for (auto& s : *specs)
      projectors += 3 * std::max<std::size_t>(1, s.partitions);
  auto per_projector = std::max<std::size_t>(window, config_.projector.replay_ahead)
                       + 2;
  return config_.pipeline + per_projector * projectors + slack;
}

} // namespace bus::sim
