#include "internal/shared_pauses.hpp"

#include <caf/all.hpp>

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

} // namespace

bool shared_partition(const supervisor_state& st, const supervisor_state::slot& s) {
  auto* group = group_of(st, s.spec.name);
  return group != nullptr && group->shared != sharing::alone;
}

void report_pause(supervisor_ptr self, const std::string& name,
                  supervisor_state::intent x, std::optional<std::uint64_t> frozen_at) {
  auto& st = self->state;
  auto* group = group_of(st, name);
  if (group == nullptr || group->shared == sharing::alone || !st.bus)
    return;
  partition_pause pause;
  pause.intent = x == supervisor_state::intent::pause ? partition_intent::pause
                                                      : partition_intent::run;
  if (frozen_at)
    pause.frozen_at = *frozen_at;
  // The bus sets the partition's index from the name.
  self->send(st.bus, intent_atom::value, name, std::move(pause));
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
  // restart of the node starts it as the bus has it.
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
