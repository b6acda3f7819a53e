#pragma once

// A seeded whole-system simulator. One run builds a bus (on a log that may
// sync at an interval), a local supervisor and possibly a simulated remote
// node (a connector with a substitute dialer), all on CAF's test
// coordinator, and lets a PRNG seeded with `seed` choose every step: which
// pending message runs next, when a timeout fires, publish bursts and batch
// sizes, redeliveries, duplicates, poison events, pauses, rebuilds,
// blue/green switches, node losses, bus restarts, failed syncs and
// snapshots that restarted projectors restore. At every
// quiescent point and at the end it checks the invariants below against an
// independent fold of the log. The same seed and options replay the same
// run. Single-threaded; each run owns its actor system.

#include <bitset>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "bus/event.hpp"
#include "bus/read_model.hpp"

namespace bus::sim {

/// What the simulator may do to the system; each can be switched off.
enum class fault : std::uint8_t {
  /// Windows of 1-4 deliveries (bus_options::max_in_flight), else 64.
  backpressure,
  /// Several publishes outstanding at once.
  pipelining,
  /// redeliver_atom of a range of the log.
  redelivery,
  /// Publishing ids that are already in the log or twice in a batch.
  duplicates,
  /// A model's apply throws once (the supervisor restarts it).
  poison_once,
  /// A model's apply throws always (it ends "failed").
  poison_always,
  /// The remote node crashes and a new one joins later.
  node_loss,
  /// The bus is killed and respawned on the same log; everyone rebinds.
  bus_restart,
  /// Group commit, and syncs that fail.
  sync_failure,
  /// Pause and resume of a model.
  pause,
  /// Rebuild of a model in place.
  rebuild,
  /// Blue/green shadow, switch, rollback and discard.
  blue_green,
  /// Timeouts fire at random points, not only when the system is idle.
  early_timeouts,
  /// The seed chooses 1-8 models: some of those given, and extra instances
  /// of them under other names (`order_totals_2`); off, every model given
  /// runs once.
  model_counts,
  /// Queries of a model after an awaited publish named it.
  queries,
  /// Projectors snapshot their models every 1-6 events to a store that
  /// outlives them: restarts, node losses and switches restore them.
  snapshots,
  /// Some models (not index models) run as 2-4 key-hash partitions, each a
  /// projector of its own (bus/partitions.hpp).
  partitions,
  /// Some models that track their changes are kept in tables of a models
  /// database that outlives their projectors (model_storage::sqlite):
  /// restarts, node losses and switches load them.
  tables,
};

constexpr std::size_t fault_count = 18;

/// Returns the flag name of `x` ("backpressure", ...).
const char* to_string(fault x) noexcept;

/// Parses a flag name.
std::optional<fault> fault_from_string(const std::string& text);

/// What the simulator checks.
enum class invariant : std::uint8_t {
  /// A read model differs from a fresh fold of the log up to its checkpoint.
  fold,
  /// One model instance applied a seq twice (between two resets).
  applied_twice,
  /// One model instance applied seqs out of order.
  out_of_order,
  /// An acknowledged event is not in the log at its seq.
  ack_lost,
  /// A publish ack named a model that had not applied the event, or left
  /// out a steady model that takes it.
  ack_models,
  /// A model's checkpoint went back without a rebuild, restart or reset.
  checkpoint_backwards,
  /// At rest, a running model is behind the durable head or not "running".
  lag,
  /// A model failed for good came back, or a healthy one stayed down.
  failed_state,
  /// An actor's mailbox grew past the bound.
  mailbox,
  /// The system did not come to rest, or a request was never answered.
  liveness,
  /// A query to a model that a publish ack named, sent after the ack while
  /// the model stayed steady, was refused, or its answer missed an event
  /// the model had applied before the ack.
  query,
  /// A client's events are in the log out of the order it sent them, where
  /// an event resent after a failed commit keeps the place of its first
  /// send (checked when the publishes come from one session).
  publish_order,
};

constexpr std::size_t invariant_count = 12;

/// Returns the name of `x` ("fold", ...).
const char* to_string(invariant x) noexcept;

/// Parses an invariant name.
std::optional<invariant> invariant_from_string(const std::string& text);

/// One broken invariant.
struct violation {
  invariant what;
  std::string detail;
};

/// Makes the event number `index` of a run; the simulator sets no seq. The
/// generator may use `rng` freely (it is the run's PRNG).
using event_source = std::function<event(std::mt19937_64& rng, std::size_t index)>;

/// The key under which `model` (the name of the model as given, also for
/// an extra instance of it) answers for event `e`, if any: what the query
/// invariant asks it for.
using query_key_source
  = std::function<std::optional<std::string>(const std::string& model, const event& e)>;

struct sim_options {
  /// Steps of the scenario before the final settle (a step budget; the
  /// shrinker lowers it).
  std::size_t steps = 40;
  /// Events published at most per run.
  std::size_t max_events = 48;
  /// Faults the simulator may inject.
  std::bitset<fault_count> faults = std::bitset<fault_count>{}.set();
  /// Invariants the simulator checks.
  std::bitset<invariant_count> checks = std::bitset<invariant_count>{}.set();
  /// Makes the published events; empty: the shop stream of shop_events().
  event_source events;
  /// The query key of an event per model; empty: shop_query_key, then the
  /// model's key_of.
  query_key_source query_key;
  /// Per actor: messages a mailbox may hold beyond the bound the windows
  /// and outstanding requests allow.
  std::size_t mailbox_slack = 16;
  /// Record a readable trace of the steps (costs a little time).
  bool trace = false;

  bool enabled(fault x) const { return faults.test(static_cast<std::size_t>(x)); }
  bool checked(invariant x) const { return checks.test(static_cast<std::size_t>(x)); }
};

struct sim_result {
  std::uint64_t seed = 0;
  /// The first broken invariant, if any.
  std::optional<violation> failure;
  /// The first violation of each invariant broken, in the order found (a
  /// run goes on after a violation, so that one bug does not hide another).
  std::vector<violation> violations;
  /// Steps run (the failing one last), when tracing.
  std::vector<std::string> trace;
  std::size_t steps = 0;
  /// Events in the log at the end.
  std::uint64_t head = 0;
};

/// Runs one simulation of `models` under `seed`. Each model must be
/// deterministic (equal folds of equal events give equal snapshots).
sim_result simulate(const std::vector<model_spec>& models, const sim_options& options,
                    std::uint64_t seed);

/// Replays a failing `seed` with ever smaller step budgets and returns the
/// shortest run that still breaks the same invariant (with its trace).
sim_result shrink(const std::vector<model_spec>& models, sim_options options,
                  std::uint64_t seed);

/// The simulator's default read models: a C++ tally of orders (snapshotted
/// whole, and restored), the declarative document and index models of
/// config/node.json, a model of rare and absent types, and a model of
/// every type ("*").
std::vector<model_spec> shop_models();

/// The key a shop model answers queries under for `e`: the user of an
/// order (`order_totals`), the user id (`user_listing`), the email
/// (`user_by_email`), the event type (`audit_log`, `every_event`).
std::optional<std::string> shop_query_key(const std::string& model, const event& e);

/// The default event stream: users created, updated and deleted, orders
/// placed and cancelled, and a rare audit event.
event shop_event(std::mt19937_64& rng, std::size_t index);

} // namespace bus::sim
