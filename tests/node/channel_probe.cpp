// bus-channel-probe: a node that joins a channel published at HOST PORT
// with a receiver that never acks, and prints "took ID ATTEMPT" for each
// message it takes, so that a test can kill the whole node (SIGKILL) while
// it holds a message. It gives up after 30 s.
// Usage: bus-channel-probe HOST PORT

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "bus/actors/channel.hpp"
#include "bus/actors/init.hpp"

using namespace bus::actors;
using namespace std::chrono_literals;

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: bus-channel-probe HOST PORT\n";
    return 2;
  }
  caf::actor_system_config cfg;
  bus::init(cfg);
  bus::enable_network(cfg);
  cfg.set("logger.verbosity", caf::atom("quiet"));
  caf::actor_system sys{cfg};
  auto port = static_cast<std::uint16_t>(std::atoi(argv[2]));
  auto channel = sys.middleman().remote_actor<channel_actor>(argv[1], port);
  if (!channel) {
    std::cerr << "bus-channel-probe: " << sys.render(channel.error()) << '\n';
    return 1;
  }
  auto receiver = sys.spawn(
    [](channel_receiver_actor::pointer) -> channel_receiver_actor::behavior_type {
      return {
        [](take_atom, channel_message& m) {
          std::cout << "took " << m.id << ' ' << m.attempt << std::endl;
        },
      };
    });
  caf::scoped_actor self{sys};
  int status = 0;
  self->request(*channel, 10s, join_atom::value, receiver, std::uint32_t{1})
    .receive([](channel_status&) {},
             [&](caf::error& err) {
               std::cerr << "bus-channel-probe: " << sys.render(err) << '\n';
               status = 1;
             });
  if (status == 0)
    self->receive(caf::after(30s) >> [] {});
  self->send_exit(receiver, caf::exit_reason::user_shutdown);
  return status;
}
