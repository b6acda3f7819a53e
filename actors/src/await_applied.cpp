#include "bus/actors/await_applied.hpp"

#include <chrono>

#include <caf/all.hpp>

namespace bus::actors {

caf::expected<std::vector<model_checkpoint>>
await_applied(caf::scoped_actor& self, const supervisor_actor& supervisor,
              std::uint64_t seq, std::optional<std::string> model,
              caf::timespan timeout) {
  // The supervisor answers at its deadline with the models still behind; it
  // asks them (and other nodes) first, each within its own limit. The margin
  // only guards against a supervisor that is gone (on a lost node).
  caf::duration limit = caf::infinite;
  if (timeout < std::chrono::hours{24 * 365})
    limit = caf::duration{timeout + std::chrono::seconds{30}};
  caf::expected<std::vector<model_checkpoint>> result{caf::error{}};
  self
    ->request(supervisor, limit, await_atom::value, seq, model.value_or(std::string{}),
              timeout)
    .receive([&](std::vector<model_checkpoint>& xs) { result = std::move(xs); },
             [&](caf::error& err) { result = std::move(err); });
  return result;
}

} // namespace bus::actors
