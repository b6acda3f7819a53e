#pragma once

// One simulation run: the scenario's steps (runner_steps.cpp) and the
// invariant checks (runner_checks.cpp) over a world. The PRNG is consumed
// in a fixed order (configuration first, then one draw sequence per step),
// so a run with a smaller step budget is a prefix of the longer one.

#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "bus/sim/simulator.hpp"
#include "journal.hpp"
#include "world.hpp"

namespace bus::sim {

/// Where a quiescent point stands: jobs done only, or also every timer
/// fired and every fault healed.
enum class rest : std::uint8_t { idle, settled, final };

class runner {
public:
  runner(const std::vector<model_spec>& models, const sim_options& options,
         std::uint64_t seed);

  /// Runs the scenario and returns the result.
  sim_result run();

private:
  // -- steps (runner_steps.cpp) ---------------------------------------------
  void one_step();
  void publish();
  /// Resends the events of failed commits (journal::resend).
  void resend();
  /// The events published and acknowledged so far, in the order made.
  const std::vector<event>& acknowledged();
  void send_publish(std::vector<event> batch, bool await, const std::string& what,
                    const std::string& ids);
  void run_jobs();
  void fire_timeout();
  void redeliver();
  void poison(int times);
  void lifecycle();
  void blue_green();
  void node_fault();
  void bus_fault();
  void sync_fault();
  // -- queries (runner_query.cpp) -------------------------------------------
  /// Queries a model that the latest awaited ack named, for a key of an
  /// event it applied.
  void query();
  /// Checks the queries answered since the last call.
  void check_queries();
  std::optional<std::string> query_key(const std::string& model, const event& e);
  /// Brings back what is down and resumes paused models (final settle).
  void heal(bool resume_paused);
  // -- parked events (runner_parking.cpp) -----------------------------------
  /// Retries or discards parked events of a model.
  void parked_step();
  /// An operator's restart of a model.
  void operator_restart();
  /// Final: heals every poison, brings failed models back, retries every
  /// parked event.
  void heal_parking();
  /// True when `model` stops (rather than parks) on a poison event and is
  /// poisoned for good: it must stay failed, nothing is checked in it.
  bool stopped_for_good(const std::string& model);
  /// The spec of a model, or of one of its partitions ("m#1").
  const model_spec& spec_of(const std::string& model) const;
  /// Makes some models partitioned (fault::partitions), here and in the
  /// world's specs.
  void draw_partitions(std::vector<model_spec>& local, std::vector<model_spec>& remote);
  /// The supervisor slots of a model: its partitions, or itself.
  std::vector<std::string> slots_of(const model_spec& spec) const;
  /// True when `slot` (a model, or a partition of one) takes `e` by its key
  /// (`model` says the key: any instance of the model).
  bool holds(const std::string& slot, const read_model& model, const event& e) const;
  /// True when the partition of a model's poison ("m#1") or the model
  /// itself is `slot`: the one that fails on it.
  bool poisoned_slot(const std::string& slot, const model_spec& spec);
  /// What a request does to its model's steadiness (see mark_stable).
  enum class request_effect {
    /// Acks and queries of the model are not checked until the next
    /// settled point sees it running (pause, rebuild, rollback, ...).
    disturbs,
    /// They stay checked: a blue/green rebuild to the same definition must
    /// keep them right throughout, its hand-over included.
    keeps_steady,
  };
  template <class T, class... Ts>
  void ask_supervisor(const std::string& model, const std::string& what, Ts... xs) {
    ask_supervisor_as<T>(request_effect::disturbs, model, what, xs...);
  }
  template <class T, class... Ts>
  void ask_supervisor_as(request_effect effect, const std::string& model,
                         const std::string& what, Ts... xs);

  // -- checks (runner_checks.cpp) -------------------------------------------
  /// Checks the invariants that hold at a quiescent point of kind `r`.
  void check(rest r);
  void check_found();
  void check_mailboxes();
  void check_folds();
  void check_acks_logged();
  void check_checkpoints();
  void check_lag(rest r);
  void check_ack_models();
  void check_publish_order();
  void check_parked(const projector_view& v, const actors::projector_state& st,
                    const read_model& fresh, const std::set<std::uint64_t>& applied,
                    const std::map<std::uint64_t, const event*>& by_seq);
  void mark_stable();
  void fail(invariant what, std::string detail);
  bool failed() const { return result_.failure.has_value(); }

  void note(std::string what);
  std::string pick_model();

  const sim_options& options_;
  std::mt19937_64 rng_;
  journal_ptr journal_;
  std::vector<model_spec> raw_;
  /// The partitions of partitioned models, by name ("m#1").
  std::map<std::string, model_spec> partition_specs_;
  std::vector<std::string> remote_names_;
  /// Per model: the name of the model given that it is an instance of.
  std::map<std::string, std::string> base_;
  std::unique_ptr<world> world_;
  sim_result result_;
  std::size_t next_event_ = 0;
  std::vector<event> published_;
  /// When each event was made (its index among the run's events).
  std::map<std::string, std::size_t> created_;
  std::vector<event> acknowledged_;
  /// Publishes come from one session (world_config::one_session).
  bool one_session_ = false;
  std::map<std::string, bool> paused_;
  struct seen_checkpoint {
    caf::actor_addr handle;
    std::uint32_t rebuilds = 0;
    std::uint64_t checkpoint = 0;
  };
  std::map<std::string, seen_checkpoint> seen_;
  /// A model that stops on poison is poisoned for good.
  bool poisoned_always_ = false;
  /// Failed models are retried after a cool-down.
  bool cooldown_ = false;
  /// Set when the system cannot be driven further (it never came to rest).
  bool stop_ = false;
};

// A lifecycle request to the supervisor of `model` (runner_ops.cpp and
// runner_parking.cpp send them).
template <class T, class... Ts>
void runner::ask_supervisor_as(request_effect effect, const std::string& model,
                               const std::string& what, Ts... xs) {
  auto sup = world_->supervisor_of(model);
  if (!sup) {
    note(what + " " + model + ": skipped, its node is down");
    return;
  }
  note(what + " " + model);
  auto disturbs = effect == request_effect::disturbs;
  if (disturbs)
    journal_->disturb(model);
  auto j = journal_;
  ++j->open_requests;
  auto sent_at = j->tick();
  world_->request<T>(
    sup,
    [j, model, sent_at, what, disturbs](caf::expected<T> reply) {
      --j->open_requests;
      if (!reply)
        j->request_failed(reply.error(), sent_at, what + " " + model);
      // Settling again after the answer: the model is disturbed until the
      // next settled point sees it running.
      if (disturbs)
        j->disturb(model);
    },
    xs...);
}

} // namespace bus::sim
