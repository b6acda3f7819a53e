#include "harness.hpp"

#include <algorithm>
#include <limits>
#include <atomic>
#include <cstdio>
#include <thread>

#include <caf/all.hpp>

#include "bus/actors/init.hpp"

using namespace bus::actors;

namespace bench {

bool options::runs_scenario(std::string_view name) const {
  return only.empty() || std::find(only.begin(), only.end(), name) != only.end();
}

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

double per_second(std::size_t count, double seconds) {
  return static_cast<double>(count) / seconds;
}

double median(std::vector<double> xs) {
  std::sort(xs.begin(), xs.end());
  return xs[xs.size() / 2];
}

std::vector<std::vector<bus::event>> split(const std::vector<bus::event>& events,
                                           std::size_t batch) {
  std::vector<std::vector<bus::event>> result;
  for (std::size_t i = 0; i < events.size(); i += batch)
    result.emplace_back(
      events.begin() + static_cast<std::ptrdiff_t>(i),
      events.begin() + static_cast<std::ptrdiff_t>(std::min(events.size(), i + batch)));
  return result;
}

std::string rate(double events_per_second) {
  char text[32];
  if (events_per_second >= 1e6)
    std::snprintf(text, sizeof(text), "%.2f M/s", events_per_second / 1e6);
  else
    std::snprintf(text, sizeof(text), "%.0f k/s", events_per_second / 1e3);
  return text;
}

std::string millis(double us) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.2f ms", us / 1000);
  return text;
}

void wait_caught_up(caf::scoped_actor& self, const std::vector<projector_actor>& ps,
                    std::uint64_t head) {
  for (auto& p : ps) {
    while (true) {
      std::uint64_t checkpoint = 0;
      self->request(p, caf::infinite, status_atom::value)
        .receive([&](projector_status& s) { checkpoint = s.checkpoint; },
                 [](caf::error&) {});
      if (checkpoint >= head)
        break;
      std::this_thread::sleep_for(std::chrono::microseconds{200});
    }
  }
}

namespace {

// Set once by main, before any system starts.
bus::idle_workers idle_mode = bus::idle_workers::wake;

} // namespace

void use_idle_workers(bus::idle_workers idle) {
  idle_mode = idle;
}

system_holder::system_holder(bool network) {
  bus::init(cfg);
  bus::one_worker_per_core(cfg, idle_mode);
  if (network)
    bus::enable_network(cfg);
  sys = std::make_unique<caf::actor_system>(cfg);
}

bus::actors::bus_options open_loop_bus() {
  bus::actors::bus_options result;
  result.max_publishes_in_flight = std::numeric_limits<std::uint32_t>::max();
  return result;
}

latency_split measure_latency(caf::actor_system& sys, const bus_actor& bus,
                              const std::vector<bus::event>& events, double per_second,
                              std::size_t warmup_events) {
  constexpr std::size_t batch = latency_batch;
  auto batches = split(events, batch);
  auto tick = std::chrono::nanoseconds{
    static_cast<std::int64_t>(1e9 * batch / per_second)};
  auto total = batches.size();
  // One slot per batch, written by the load actor only; read after `done`.
  auto samples = std::make_shared<std::vector<batch_sample>>(total,
                                                             batch_sample{0, -1.0});
  auto done = std::make_shared<std::atomic<std::size_t>>(0);
  auto shared = std::make_shared<std::vector<std::vector<bus::event>>>(
    std::move(batches));
  sys.spawn([=](caf::event_based_actor* a) {
    auto next = std::make_shared<std::size_t>(0);
    auto start = std::make_shared<clock_type::time_point>(clock_type::now());
    a->become([=](caf::tick_atom) {
      // Publish every batch whose time has come (ticks may bunch up).
      auto due = static_cast<std::size_t>((clock_type::now() - *start) / tick) + 1;
      for (; *next < std::min(due, total); ++*next) {
        auto sent = clock_type::now();
        a->request(bus, caf::infinite, publish_atom::value, std::move((*shared)[*next]),
                   publish_wait::projectors)
          .then(
            [=, index = *next](publish_ack&) {
              auto& sample = (*samples)[index];
              sample.sent_s
                = std::chrono::duration<double>(sent.time_since_epoch()).count();
              sample.latency_us = std::chrono::duration<double, std::micro>(
                                    clock_type::now() - sent)
                                    .count();
              ++*done;
            },
            [=](caf::error&) { ++*done; });
      }
      if (*next < total)
        a->delayed_send(a, tick, caf::tick_atom::value);
    });
    a->send(a, caf::tick_atom::value);
  });
  while (done->load() < total)
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  latency_split result;
  result.warmup_events = std::min(warmup_events, events.size());
  std::vector<double> all, steady;
  for (std::size_t i = 0; i < total; ++i) {
    auto& sample = (*samples)[i];
    if (sample.latency_us < 0)
      continue; // refused: not a latency
    all.push_back(sample.latency_us);
    if (i * batch >= result.warmup_events) {
      steady.push_back(sample.latency_us);
      result.steady_batches.push_back(sample);
    }
  }
  result.all = percentiles_of(all);
  result.steady = percentiles_of(steady);
  return result;
}

} // namespace bench
