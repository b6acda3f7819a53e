#include <memory>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "bus/actors/connector.hpp"
#include "bus/errc.hpp"

namespace bus::actors {

namespace {

struct failover_state {
  std::vector<dial_target> targets;
  caf::timespan timeout{};
  /// The target a dial tries first: the one reached last, as a bus that
  /// led still leads unless it was lost.
  std::size_t first = 0;
};

using failover_ptr = dialer_actor::stateful_pointer<failover_state>;

// One dial in progress: where it is in the turn and why each target failed.
struct attempt {
  caf::typed_response_promise<bus_actor> promise;
  std::size_t tried = 0;
  std::string reasons;
};

void try_next(failover_ptr self, std::shared_ptr<attempt> at) {
  auto& st = self->state;
  if (at->tried == st.targets.size()) {
    at->promise.deliver(
      make_error(errc::unreachable, "no bus reached: " + at->reasons));
    return;
  }
  auto index = (st.first + at->tried) % st.targets.size();
  ++at->tried;
  self->request(st.targets[index].dialer, st.timeout, dial_atom::value)
    .then(
      [self, at, index](bus_actor& bus) {
        self->state.first = index;
        at->promise.deliver(std::move(bus));
      },
      [self, at, index](caf::error& err) {
        if (!at->reasons.empty())
          at->reasons += "; ";
        at->reasons += self->state.targets[index].where + ": "
                       + self->home_system().render(err);
        try_next(self, at);
      });
}

} // namespace

dialer_actor spawn_failover_dialer(caf::actor_system& sys,
                                   std::vector<dial_target> targets,
                                   caf::timespan timeout) {
  auto impl = [](failover_ptr self, std::vector<dial_target> all,
                 caf::timespan each) -> dialer_actor::behavior_type {
    self->state.targets = std::move(all);
    self->state.timeout = each;
    // The dialers it owns stop with it.
    for (auto& target : self->state.targets)
      self->link_to(target.dialer);
    return {
      [self](dial_atom) -> caf::result<bus_actor> {
        if (self->state.targets.empty())
          return make_error(errc::unreachable, "no bus to dial");
        auto at = std::make_shared<attempt>();
        at->promise = self->make_response_promise<bus_actor>();
        try_next(self, at);
        return at->promise;
      },
    };
  };
  return sys.spawn(impl, std::move(targets), timeout);
}

} // namespace bus::actors
