#include "remote.hpp"

#include <stdexcept>
#include <thread>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "bus/actors/bus_actor.hpp"
#include "bus/actors/projector.hpp"
#include "bus/memory_log.hpp"
#include "bus/processed_ids.hpp"
#include "noise_floor.hpp"
#include "workload.hpp"

using namespace bus::actors;

namespace bench {

namespace {

// Three nodes in one process: the bus's, and two projector nodes.
struct loopback_cluster {
  system_holder bus_node{true};
  system_holder nodes[2] = {system_holder{true}, system_holder{true}};
  bus_actor bus;
  projector_actor projectors[2];

  loopback_cluster() {
    bus = spawn_bus(*bus_node.sys, std::make_shared<bus::memory_log>(),
                    open_loop_bus());
    auto port = bus_node.sys->middleman().publish(bus, 0, "127.0.0.1", true);
    if (!port)
      throw std::runtime_error("cannot publish the bus: "
                               + bus_node.sys->render(port.error()));
    for (int i = 0; i < 2; ++i) {
      auto& sys = *nodes[i].sys;
      auto remote = sys.middleman().remote_actor<bus_actor>("127.0.0.1", *port);
      if (!remote)
        throw std::runtime_error("cannot reach the bus: " + sys.render(remote.error()));
      projectors[i] = spawn_projector(sys, *remote, sum_spec("m" + std::to_string(i)),
                                      projector_options{});
      caf::scoped_actor self{sys};
      self->request(projectors[i], caf::infinite, ready_atom::value)
        .receive([](projector_status&) {}, [](caf::error&) {});
    }
  }

  ~loopback_cluster() {
    for (int i = 0; i < 2; ++i) {
      caf::scoped_actor self{*nodes[i].sys};
      self->send_exit(projectors[i], caf::exit_reason::user_shutdown);
      self->wait_for(projectors[i]);
    }
    caf::scoped_actor self{*bus_node.sys};
    self->send_exit(bus, caf::exit_reason::user_shutdown);
    self->wait_for(bus);
  }

  // Blocks until both projectors' checkpoints reach `head`.
  void wait_caught_up(std::uint64_t head) {
    for (int i = 0; i < 2; ++i) {
      caf::scoped_actor self{*nodes[i].sys};
      bench::wait_caught_up(self, {projectors[i]}, head);
    }
  }
};

} // namespace

double remote_pipeline(const options& opt, const std::vector<bus::event>& events,
                       report& out) {
  std::vector<double> bus_rates, loop_rates;
  for (std::size_t run = 0; run < opt.runs; ++run) {
    {
      auto batches = split(events, opt.batch_size);
      loopback_cluster c;
      auto t0 = clock_type::now();
      for (auto& b : batches)
        caf::anon_send(c.bus, publish_atom::value, std::move(b), publish_wait::log);
      c.wait_caught_up(events.size());
      bus_rates.push_back(per_second(events.size(), seconds_since(t0)));
    }
    {
      auto batches = split(events, opt.batch_size);
      bus::memory_log log;
      std::vector<sum_model> models;
      models.emplace_back("m0");
      models.emplace_back("m1");
      std::vector<bus::processed_ids> dedup(2);
      auto t0 = clock_type::now();
      for (auto& b : batches) {
        auto result = log.append(std::move(b));
        for (std::size_t m = 0; m < 2; ++m)
          for (auto& e : result.appended)
            if (dedup[m].insert(e.seq))
              models[m].apply(e);
      }
      loop_rates.push_back(per_second(events.size(), seconds_since(t0)));
    }
  }
  out.rate("remote", "remote: publish, log, 2 projector nodes", median(bus_rates),
           median(loop_rates), "append + 2 x (dedup + apply), 1 thread");
  return median(bus_rates);
}

void remote_latency(const std::vector<bus::event>& events, double per_second,
                    const std::string& id, report& out) {
  loopback_cluster c;
  auto page_us = fresh_page_us(); // before the clock: it takes tens of ms
  noise_floor floor;
  auto latency = measure_latency(*c.bus_node.sys, c.bus, events, per_second,
                                 default_keys);
  out.latency(id, "latency publish -> applied on 2 nodes", per_second, latency_batch,
              latency, floor.stop(), page_us);
}

} // namespace bench
