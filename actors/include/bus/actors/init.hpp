#pragma once

// The one function that registers every message type and error category of
// the framework. Every actor system that runs bus actors calls it, locally
// or on any node, so no node can miss a type.

#include <chrono>
#include <optional>
#include <string_view>

#include <caf/actor_system_config.hpp>
#include <caf/timespan.hpp>

namespace bus {

/// Registers the framework's message types and the "bus" error category.
void init(caf::actor_system_config& cfg);

/// How nodes watch their connections.
struct network_options {
  /// Every connection carries a heartbeat this often.
  caf::timespan heartbeat_interval = std::chrono::milliseconds{500};
  /// A peer silent for this long is declared lost: the actors of its node
  /// go down with remote_link_unreachable, as when its process dies.
  caf::timespan connection_timeout = std::chrono::seconds{3};
};

/// Loads CAF's middleman so that actors can cross node boundaries, with
/// heartbeats on. Call after init on every node that listens or connects.
void enable_network(caf::actor_system_config& cfg, network_options options = {});

/// What a scheduler worker with nothing to run does.
enum class idle_workers {
  /// CAF's own work stealing: an idle worker naps 50 us or more between
  /// polls and steals on every fifth, so an actor a busy worker makes
  /// runnable mostly waits for that worker.
  poll,
  /// As `poll`, but a worker that queues a second runnable actor on itself
  /// wakes a napping peer, which takes it: the projectors a batch fans out
  /// to run on both cores at once. Idle workers nap as long, so an idle
  /// node costs no more CPU.
  wake,
};

const char* to_string(idle_workers x) noexcept;

/// Parses "poll" or "wake".
std::optional<idle_workers> idle_workers_from_string(std::string_view x) noexcept;

/// Sizes the scheduler at one worker per core (CAF 0.17 starts at least
/// four, and more workers than cores only add context switches) and picks
/// what its idle workers do.
void one_worker_per_core(caf::actor_system_config& cfg,
                         idle_workers idle = idle_workers::wake);

} // namespace bus
