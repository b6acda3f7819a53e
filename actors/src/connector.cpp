#include "bus/actors/connector.hpp"

#include <caf/all.hpp>
#include <caf/io/middleman.hpp>

#include "bus/actors/supervisor.hpp"
#include "bus/errc.hpp"
#include "bus/log.hpp"
#include "internal/connector_state.hpp"

namespace bus::actors {

namespace {

using connector_self = connector_actor::stateful_pointer<connector_state>;

void say(connector_self self, log_level level, const std::string& what) {
  BUS_LOG(level, "connector", self->state.options.node << ": " << what);
}

// Dials again after the backoff for the failures so far.
void redial_later(connector_self self) {
  auto& st = self->state;
  auto delay = st.options.initial_backoff;
  for (std::uint32_t i = 1;
       i < st.link.failed_attempts && delay < st.options.max_backoff; ++i)
    delay *= 2;
  delay = std::min(delay, st.options.max_backoff);
  self->delayed_send(self, delay, dial_atom::value, ++st.dial_generation);
}

void lost(connector_self self, const caf::error& why) {
  auto& st = self->state;
  st.link.connected = false;
  st.link.last_error = caf::to_string(why);
  ++st.link.failed_attempts;
  redial_later(self);
}

// Registers the supervisor with a bus just reached.
void attach(connector_self self) {
  auto& st = self->state;
  self
    ->request(st.bus, st.options.timeout, attach_atom::value, st.options.node,
              caf::actor_cast<caf::actor>(st.supervisor), st.options.models,
              st.options.shared)
    .then(
      [self, bus = st.bus](std::uint64_t head) {
        auto& state = self->state;
        if (bus != state.bus)
          return; // lost and replaced meanwhile
        state.link.connected = true;
        state.link.failed_attempts = 0;
        ++state.link.connections;
        say(self, log_level::info,
            "attached to the bus (head seq " + std::to_string(head) + ")");
      },
      [self, bus = st.bus](caf::error& err) {
        if (bus != self->state.bus)
          return;
        if (code_of(err) == errc::precondition_failed) {
          // Refused (another node serves one of its models): dialing again
          // would be refused again; stop, with the supervisor (linked).
          say(self, log_level::error,
              "the bus refused to attach it: " + context_of(err));
          self->quit(err);
          return;
        }
        lost(self, err); // the down message may follow: dial once
      });
}

void connected(connector_self self, bus_actor bus) {
  auto& st = self->state;
  st.bus = std::move(bus);
  self->monitor(st.bus);
  if (!st.supervisor) {
    st.supervisor = st.make_supervisor(st.bus);
    self->link_to(st.supervisor);
  } else {
    // The projectors subscribe to the new bus and pull from their
    // checkpoints: nothing published meanwhile is missed or applied twice.
    self->send(st.supervisor, rebind_atom::value, st.bus);
  }
  attach(self);
}

void dial(connector_self self) {
  auto& st = self->state;
  if (st.bus)
    return;
  auto timeout = st.options.dial_timeout != caf::timespan{0} ? st.options.dial_timeout
                                                             : st.options.timeout;
  self->request(st.dialer, timeout, dial_atom::value)
    .then([self](bus_actor& bus) { connected(self, std::move(bus)); },
          [self](caf::error& err) {
            auto& state = self->state;
            if (state.link.failed_attempts == 0)
              say(self, log_level::warning,
                  "cannot reach the bus (" + caf::to_string(err)
                    + "); retrying with backoff");
            lost(self, err);
          });
}

} // namespace

connector_actor::behavior_type
connector_impl(connector_actor::stateful_pointer<connector_state> self,
               dialer_actor dialer, supervisor_factory make_supervisor,
               connector_options options) {
  auto& st = self->state;
  st.dialer = std::move(dialer);
  st.make_supervisor = std::move(make_supervisor);
  st.options = std::move(options);
  self->set_default_handler(caf::drop);
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& state = self->state;
    if (!state.bus || dm.source != state.bus.address())
      return;
    say(self, log_level::warning,
        "lost the bus (" + caf::to_string(dm.reason) + "); reconnecting");
    state.bus = nullptr;
    state.link.connected = false;
    state.link.last_error = caf::to_string(dm.reason);
    // A caught-up projector asks its bus for nothing and would go on
    // reporting "running": rebinding to no bus detaches them all now.
    if (state.supervisor)
      self->send(state.supervisor, rebind_atom::value, bus_actor{});
    redial_later(self);
  });
  self->set_exit_handler([self](caf::exit_msg& em) {
    if (self->state.supervisor)
      self->send_exit(self->state.supervisor, em.reason);
    self->quit(em.reason);
  });
  dial(self);
  return {
    [self](status_atom) { return self->state.link; },
    [self](handles_atom) {
      return std::make_tuple(self->state.supervisor, self->state.bus);
    },
    [self](dial_atom, std::uint64_t generation) {
      if (generation == self->state.dial_generation)
        dial(self);
    },
  };
}

dialer_actor::behavior_type remote_dialer_impl(dialer_actor::pointer self,
                                               std::string host, std::uint16_t port,
                                               caf::timespan timeout,
                                               caf::io::middleman_actor via) {
  return {
    [self, host, port, timeout, via](dial_atom) -> caf::result<bus_actor> {
      auto rp = self->make_response_promise<bus_actor>();
      auto where = host + ":" + std::to_string(port);
      self->request(via, timeout, caf::connect_atom::value, host, port)
        .then(
          [self, rp, where](const caf::node_id&, caf::strong_actor_ptr& ptr,
                            const std::set<std::string>& ifs) mutable {
            if (!ptr)
              rp.deliver(
                make_error(errc::unreachable, "nothing is published at " + where));
            else if (!self->home_system().assignable<bus_actor>(ifs))
              rp.deliver(make_error(errc::unreachable, "the actor published at " + where
                                                         + " is not a bus"));
            else
              rp.deliver(caf::actor_cast<bus_actor>(std::move(ptr)));
          },
          [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return rp;
    },
  };
}

connector_actor spawn_connector(caf::actor_system& sys, dialer_actor dialer,
                                supervisor_factory make_supervisor,
                                connector_options options) {
  return sys.spawn(connector_impl, std::move(dialer), std::move(make_supervisor),
                   std::move(options));
}

dialer_actor spawn_remote_dialer(caf::actor_system& sys, std::string host,
                                 std::uint16_t port, caf::timespan timeout) {
  return spawn_remote_dialer(sys, std::move(host), port, timeout,
                             sys.middleman().actor_handle());
}

dialer_actor spawn_remote_dialer(caf::actor_system& sys, std::string host,
                                 std::uint16_t port, caf::timespan timeout,
                                 caf::io::middleman_actor via) {
  return sys.spawn(remote_dialer_impl, std::move(host), port, timeout, std::move(via));
}

} // namespace bus::actors
