#pragma once

// Waits in an app's main thread (a scoped actor) until the read models of a
// supervisor have caught up with the bus's log, and logs how far they are
// about once a second while that takes long: models caught up, their
// checkpoints against the log's head, events per second. It gives up after
// a time without progress (no model's state or checkpoint moved), not after
// a total time: a big store takes as long as it takes.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/scoped_actor.hpp>

#include "bus/actors/bus_actor.hpp"
#include "bus/actors/messages.hpp"
#include "bus/actors/supervisor.hpp"
#include "bus/restore_progress.hpp"

namespace bus::app {

/// What counts as caught up.
enum class catch_up_goal {
  /// Every model answers `ready` (caught up with the log when asked) or is
  /// failed for good: a node's start-up.
  ready,
  /// Every model's checkpoint is the log's head, or it is failed for good:
  /// after a run of publishes.
  head,
};

struct catch_up_options {
  catch_up_goal goal = catch_up_goal::ready;
  /// Gives up after this long without progress; zero waits for ever.
  std::chrono::milliseconds patience = std::chrono::seconds{30};
  /// Progress lines at most this often, the first after one interval.
  std::chrono::milliseconds report_every = std::chrono::seconds{1};
  /// Log source of the progress lines, e.g. "bus-node".
  std::string source = "catch-up";
  /// The projectors' restores (projector_options::restores), or null.
  /// While a projector restores its checkpoint stands still: rows restored
  /// count as progress then, and the progress lines show them.
  std::shared_ptr<const restore_progress> restores;
};

enum class catch_up_outcome {
  caught_up,
  /// Nothing moved for `patience`.
  no_progress,
};

struct catch_up_result {
  catch_up_outcome outcome = catch_up_outcome::caught_up;
  /// The models as last seen (at the end, for caught_up).
  std::vector<actors::projector_status> models;
  /// The log's head as last seen.
  std::uint64_t head = 0;
  /// For no_progress: where things stood, as the progress lines tell it.
  std::string progress;
};

/// Waits for the read models of `sup` to reach `opts.goal`.
catch_up_result wait_for_catch_up(caf::scoped_actor& self,
                                  const actors::supervisor_actor& sup,
                                  const actors::bus_actor& bus,
                                  const catch_up_options& opts);

/// One progress line: "12/40 read models caught up, checkpoints 1,200 to
/// 90,000 of head 1,000,000 (slowest: m7)"; `rate` (events per second,
/// all models together) is appended when positive.
std::string describe_progress(const std::vector<actors::projector_status>& models,
                              std::uint64_t head, double rate);

/// 1234567 as "1,234,567".
std::string with_commas(std::uint64_t n);

} // namespace bus::app
