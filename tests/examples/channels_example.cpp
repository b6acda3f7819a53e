// The example of docs/channels.md, built and run so that it stays true.

#include <chrono>
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "bus/actors/channel.hpp"
#include "bus/actors/init.hpp"

using namespace bus::actors;
using namespace std::chrono_literals;

// Handles each job once and acks it (delivery is at least once: a job can
// come again after a timeout, with the same id), and answers requests.
channel_receiver_actor::behavior_type worker(channel_receiver_actor::pointer self,
                                             channel_actor channel) {
  auto seen = std::make_shared<std::set<std::uint64_t>>();
  return {
    [=](take_atom, channel_message& m) {
      if (!m.correlation_id.empty()) {
        self->send(channel, reply_atom::value,
                   channel_reply{m.id, m.correlation_id, "42 EUR"});
        return;
      }
      if (seen->insert(m.id).second) {
        // ... do the job in m.body ...
      }
      self->send(channel, ack_atom::value, m.id);
    },
  };
}

int main() {
  caf::actor_system_config cfg;
  bus::init(cfg);
  caf::actor_system sys{cfg};
  auto channel = spawn_channel(sys, channel_options{/* ack_timeout */ 10s});
  caf::scoped_actor self{sys};
  std::vector<channel_receiver_actor> workers;
  for (int i = 0; i < 2; ++i) {
    workers.push_back(sys.spawn(worker, channel));
    self->request(channel, 5s, join_atom::value, workers.back(), std::uint32_t{4})
      .receive([](channel_status&) {},
               [&](caf::error& err) { std::cerr << sys.render(err) << '\n'; });
  }
  self->send(channel, enqueue_atom::value, std::string{"resize image 7"});
  std::string out;
  self
    ->request(channel, 5s, request_atom::value, std::string{"c-1"},
              std::string{"price of sku 42"}, caf::timespan{2s})
    .receive([&](channel_reply& r) { out += r.correlation_id + ": " + r.body + "\n"; },
             [&](caf::error& err) { out += sys.render(err) + "\n"; });
  // The job's ack may still be on its way: ask until both are settled.
  channel_status status;
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (status.acked < 2 && std::chrono::steady_clock::now() < deadline)
    self->request(channel, 5s, status_atom::value)
      .receive([&](channel_status& s) { status = s; }, [](caf::error&) {});
  out += "acked " + std::to_string(status.acked) + ", redelivered "
         + std::to_string(status.redelivered) + "\n";
  std::cout << out << std::flush;
  // An actor system waits for its actors: stop them before it goes.
  for (auto& w : workers)
    self->send_exit(w, caf::exit_reason::user_shutdown);
  self->send_exit(channel, caf::exit_reason::user_shutdown);
}
