#pragma once

// Waiting until read models have applied up to a seq: for application code
// that publishes and then queries (read your own writes), and for tests.
//
// A supervisor answers `(await_atom, seq, model, timeout)` once the model
// (or, for an empty name, every live model it runs and, on a bus's node,
// every model of the nodes attached to the bus) has a checkpoint at or past
// `seq`: every event up to it is applied, parked, or of no interest to the
// model (its checkpoint passes those too). A seq beyond the log's head is
// waited for until it is published and applied. A paused model, a failed
// one or one whose node is lost keeps the wait going until the timeout; a
// model restarted after a failure is waited for again after its replay. A
// blue/green shadow is never awaited. The answer holds each model's
// checkpoint, by model name; a timeout fails with errc::timed_out naming the
// models still behind, their checkpoints and states; an unknown model with
// errc::no_such_model. A model on another node that is not connected fails
// the wait at once (errc::model_unavailable): it cannot make progress until
// its node is back.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>
#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

#include "bus/actors/interfaces.hpp"

namespace bus::actors {

/// Blocks `self` until `model` (nothing: every live model of `supervisor`)
/// has applied every seq up to `seq`, or `timeout` has passed. A timeout
/// answers after asking each model still behind for its state, which takes
/// up to the supervision's status_timeout more (1 s by default) when a
/// model is busy in its apply(): budget timeout plus status_timeout. Returns the
/// checkpoints, or the supervisor's error (errc::timed_out, no_such_model,
/// model_unavailable). For application threads and tests, never from inside
/// an actor.
caf::expected<std::vector<model_checkpoint>>
await_applied(caf::scoped_actor& self, const supervisor_actor& supervisor,
              std::uint64_t seq, std::optional<std::string> model,
              caf::timespan timeout);

} // namespace bus::actors
