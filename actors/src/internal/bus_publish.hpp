#pragma once

// The bus's publishes (bus_publish.cpp): checked, appended, and answered
// once durable (at once, or after the group commit's sync) and, when the
// publisher waits for them, once the projectors processed them. Also the
// guard around log operations that the bus's other handlers share. Runs in
// the bus's actor.

#include <algorithm>
#include <cstdint>
#include <functional>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/make_message.hpp>
#include <caf/result.hpp>

#include "bus/errc.hpp"
#include "bus/event.hpp"
#include "bus/event_log.hpp"
#include "internal/fan_out.hpp"

namespace bus::actors::internal {

/// Runs a log operation; a storage failure becomes errc::storage_failed.
template <class F>
auto guarded(F&& f) -> caf::expected<decltype(f())> {
  try {
    return f();
  } catch (const storage_error& ex) {
    return make_error(errc::storage_failed, ex.what());
  }
}

/// Returns the highest seq that `outcomes` name (duplicates included).
template <class Outcomes>
std::uint64_t last_named(const Outcomes& outcomes) {
  std::uint64_t result = 0;
  for (auto& o : outcomes)
    result = std::max(result, o.seq);
  return result;
}

/// How a log operation (an append, a sync) ended.
enum class log_outcome {
  succeeded,
  failed,
};

/// After every log operation: says on the log (stderr) when the store
/// failed (or was fenced) since the bus last said, and why; once, not for
/// every reply that carries the error. Also when it is healthy again. A
/// success while the bus last said healthy says nothing, without asking
/// the log.
void tell_store_state(bus_self self, log_outcome outcome);

/// Holds `f` until the log's next sync; arms the sync if needed.
void after_sync(bus_self self, std::function<void(const caf::error&)> f);

/// Syncs the log and answers every reply held for it.
void sync_now(bus_self self);

/// Appends a publish and answers it (see bus_actor's publish_atom).
caf::result<publish_ack> publish(bus_self self, std::vector<event>& events,
                                 publish_wait wait, publish_order order);

} // namespace bus::actors::internal
