#include "internal/publish_order.hpp"

#include <algorithm>

#include <caf/all.hpp>

#include "bus/errc.hpp"
#include "bus/event_log.hpp"

namespace bus::actors::internal {

caf::error check_publish_order(bus_self self, const caf::actor_addr& publisher,
                               const std::vector<event>& events, publish_order order) {
  auto& held = self->state.held_for_resend;
  if (held.empty())
    return caf::none; // the common case: no hash of the publisher
  auto i = publisher ? held.find(publisher) : held.end();
  if (i == held.end())
    return caf::none;
  // The resend begins with the failed publish's first new event, after any
  // the log holds already (a client may resend from an earlier point).
  // Found further in, it is a redelivery sent before the client knew of
  // the failure: taking it would put what precedes it first. (After a
  // failed append the first event may itself be a logged one: then a
  // later publish beginning with that redelivery passes for the resend.)
  auto& log = *self->state.log;
  auto resend = events.end();
  try {
    resend = std::find_if(events.begin(), events.end(), [&](const event& e) {
      return e.id == i->second.first_id || !log.find(e.id);
    });
  } catch (const storage_error& ex) {
    // A lookup that cannot reach its store (a lost connection to
    // PostgreSQL) fails this publish, as an append would; the hold stays.
    return make_error(errc::storage_failed, ex.what());
  }
  auto resent = resend != events.end() && resend->id == i->second.first_id;
  if (resent || order == publish_order::any) {
    held.erase(i);
    return caf::none;
  }
  // A store failed for good refuses the publish anyway, and says so.
  if (log.health().state == store_state::failed)
    return caf::none;
  return make_error(errc::storage_failed,
                    "an earlier publish of this publisher failed to commit; resend "
                    "it first, from event '"
                      + i->second.first_id
                      + "': until then the log takes none of its later events, "
                        "so that it keeps them in the order sent");
}

void note_failed_publish(bus_self self, const caf::actor_addr& publisher,
                         std::uint64_t number, const std::string& first_id,
                         publish_order order, const caf::error& err) {
  if (!publisher || order != publish_order::as_sent
      || code_of(err) != errc::storage_failed)
    return;
  auto& held = self->state.held_for_resend;
  // A publisher that is gone never resends: forget it (the address is a
  // weak reference).
  for (auto i = held.begin(); i != held.end();)
    i = caf::actor_cast<caf::actor>(i->first) ? std::next(i) : held.erase(i);
  // The earliest failure counts: an append may fail before the sync that
  // fails publishes taken before it.
  auto [i, fresh] = held.try_emplace(publisher,
                                     bus_state::held_publisher{number, first_id});
  if (!fresh && number < i->second.number)
    i->second = bus_state::held_publisher{number, first_id};
}

} // namespace bus::actors::internal
