#pragma once

// How the supervisor judges a live model's health for status (see
// supervisor.hpp): progress is what the checkpoints status sees say, on the
// actor's clock, so that deterministic tests can advance it.

#include <cstdint>
#include <optional>

#include <caf/actor_clock.hpp>

#include "internal/supervisor_state.hpp"

namespace bus::internal {

/// Records the checkpoint of a projector's answer in its slot: a checkpoint
/// that moved is progress now.
void note_progress(actors::supervisor_state::slot& s,
                   const actors::projector_status& ps,
                   caf::actor_clock::time_point now);

/// Reports slot `s`, whose projector did not answer status in time, as
/// stalled since its last known progress.
void report_unanswered(actors::projector_status& out,
                       const actors::supervisor_state::slot& s,
                       caf::actor_clock::time_point now);

/// Settles the state of a live projector's answer: stalled when it is behind
/// `head` (if known) and its checkpoint has not moved for `stall_after`;
/// parked when it is otherwise caught up but has parked events.
void judge(actors::projector_status& ps, const actors::supervisor_state::slot& s,
           std::optional<std::uint64_t> head, caf::actor_clock::time_point now,
           caf::timespan stall_after);

} // namespace bus::internal
