#include "internal/health.hpp"

#include <chrono>

namespace bus::internal {

using namespace actors;

namespace {

std::int64_t millis_since(caf::actor_clock::time_point then,
                          caf::actor_clock::time_point now) {
  using namespace std::chrono;
  return now > then ? duration_cast<milliseconds>(now - then).count() : 0;
}

} // namespace

void note_progress(supervisor_state::slot& s, const projector_status& ps,
                   caf::actor_clock::time_point now) {
  if (ps.checkpoint != s.seen_checkpoint) {
    s.seen_checkpoint = ps.checkpoint;
    s.progress_at = now;
  }
  s.seen_checkpoint_timestamp = ps.checkpoint_timestamp;
}

void report_unanswered(projector_status& out, const supervisor_state::slot& s,
                       caf::actor_clock::time_point now) {
  // Busy, not dead (a dead one's request fails at once): its apply has
  // not returned within the deadline.
  out.state = model_state::stalled;
  out.checkpoint = s.seen_checkpoint;
  out.checkpoint_timestamp = s.seen_checkpoint_timestamp;
  out.stalled_ms = millis_since(s.progress_at, now);
  if (out.last_error.empty())
    out.last_error = "did not answer status in time (its apply is busy)";
}

void judge(projector_status& ps, const supervisor_state::slot& s,
           std::optional<std::uint64_t> head, caf::actor_clock::time_point now,
           caf::timespan stall_after) {
  // Paused, disconnected or down are their own answers; only a model that
  // should be moving can be stalled.
  auto moving = ps.state == model_state::running || ps.state == model_state::catching_up
                || ps.state == model_state::rebuilding;
  if (moving && head && ps.checkpoint < *head && now - s.progress_at >= stall_after) {
    ps.state = model_state::stalled;
    ps.stalled_ms = millis_since(s.progress_at, now);
    return;
  }
  if (ps.state == model_state::running && ps.parked > 0)
    ps.state = model_state::parked;
}

} // namespace bus::internal
