#include "internal/shared_pauses.hpp"

#include <caf/all.hpp>

#include "bus/errc.hpp"
#include "bus/log.hpp"
#include "bus/partitions.hpp"
#include "internal/restarts.hpp"

namespace bus::internal {

using namespace actors;

namespace {

using sharing = supervisor_state::sharing;

const supervisor_state::partitioning* group_of(const supervisor_state& st,
                                               const std::string& name) {
  auto ref = split_partition_name(name);
  if (!ref)
    return nullptr;
  auto i = st.partitioned.find(std::string{ref->model});
  return i == st.partitioned.end() ? nullptr : &i->second;
}

// What the bus keeps of a partition: intent `x`, frozen at `frozen_at`.
// Not inlined: gcc 12 takes the copy of a caf::optional without a value,
// on its way into a request, for a read of uninitialized memory
// (-Wmaybe-uninitialized).
[[gnu::noinline]] partition_pause pause_of(supervisor_state::intent x,
                                           std::optional<std::uint64_t> frozen_at) {
  partition_pause result;
  result.intent = x == supervisor_state::intent::pause ? partition_intent::pause
                                                       : partition_intent::run;
  if (frozen_at)
    result.frozen_at = *frozen_at;
  return result;
}

} // namespace

bool shared_partition(const supervisor_state& st, const supervisor_state::slot& s) {
  auto* group = group_of(st, s.spec.name);
  return group != nullptr && group->shared != sharing::alone;
}

void report_pause(supervisor_ptr self, const std::string& name,
                  supervisor_state::intent x, std::optional<std::uint64_t> frozen_at,
                  std::function<void(caf::error)> done) {
  auto& st = self->state;
  auto* group = group_of(st, name);
  if (group == nullptr || group->shared == sharing::alone || !st.bus) {
    if (done)
      done({});
    return;
  }
  // The bus sets the partition's index from the name. Asked, not told: an
  // operator's request waits for the bus to keep it.
  self
    ->request(st.bus, st.options.bus_timeout, intent_atom::value, name,
              pause_of(x, frozen_at))
    .then(
      [done] {
        if (done)
          done({});
      },
      [name, done](caf::error& err) {
        if (code_of(err) == errc::none) {
          // No answer (the bus is lost, or late): as when this node is cut
          // off from it, the intent holds here, and the bus's word wins
          // when this node attaches again (docs/distributed.md).
          BUS_LOG(log_level::warning, "supervisor",
                  "partition '" << name
                                << "': the bus did not answer whether it keeps "
                                   "its pause ("
                                << caf::to_string(err) << ")");
          if (done)
            done({});
          return;
        }
        // "partition 'm#3': paused on its node but not kept by the bus: ..."
        BUS_LOG(log_level::error, "supervisor", context_of(err));
        if (done)
          done(std::move(err));
      });
}

void adopt_pause(supervisor_ptr self, std::size_t index,
                 const partition_pause& theirs) {
  auto& s = self->state.slots[index];
  auto x = theirs.intent == partition_intent::pause ? supervisor_state::intent::pause
                                                    : supervisor_state::intent::run;
  std::optional<std::uint64_t> frozen_at;
  if (theirs.frozen_at)
    frozen_at = *theirs.frozen_at;
  if (s.wanted == x && (x == supervisor_state::intent::run || s.frozen_at == frozen_at))
    return;
  // Kept here too (without telling the bus, whose word it is), so that a
  // restart of the node starts it as the bus has it; a store that cannot
  // keep it is logged (record_intent): no request waits for this.
  record_intent(self, s.spec.name, x, frozen_at);
  if (!s.handle)
    return; // its next projector starts so
  auto ignored = [](projector_status&) {};
  auto failed = [](caf::error&) {}; // its down message says why
  if (x == supervisor_state::intent::run)
    self->request(s.handle, caf::infinite, resume_atom::value).then(ignored, failed);
  else if (frozen_at)
    self->request(s.handle, caf::infinite, hold_atom::value, *frozen_at)
      .then(ignored, failed);
  else
    self->request(s.handle, caf::infinite, pause_atom::value).then(ignored, failed);
}

void rejoin(supervisor_ptr self) {
  for (auto& entry : self->state.partitioned)
    if (entry.second.shared == sharing::shared)
      entry.second.shared = sharing::joining;
}

bool awaits_assignment(const supervisor_state& st, const supervisor_state::slot& s) {
  auto* group = group_of(st, s.spec.name);
  return group != nullptr && group->shared == sharing::joining;
}

} // namespace bus::internal
