#include "local_scenarios.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <unordered_set>
#include <vector>

#include <caf/all.hpp>

#include "bus/actors/bus_actor.hpp"
#include "bus/actors/projector.hpp"
#include "bus/errc.hpp"
#include "bus/log.hpp"
#include "bus/memory_log.hpp"
#include "bus/processed_ids.hpp"
#include "bus/sqlite_log.hpp"
#include "allocator.hpp"
#include "noise_floor.hpp"
#include "workload.hpp"

using namespace bus::actors;

namespace bench {

namespace {

std::vector<projector_actor> spawn_projectors(caf::actor_system& sys,
                                              const bus_actor& bus, std::size_t n,
                                              caf::scoped_actor& self) {
  std::vector<projector_actor> ps;
  for (std::size_t i = 0; i < n; ++i)
    ps.push_back(spawn_projector(sys, bus, bench::sum_spec("m" + std::to_string(i)),
                                 projector_options{}));
  for (auto& p : ps) // subscribed and caught up before the clock starts
    self->request(p, caf::infinite, ready_atom::value)
      .receive([](projector_status&) {}, [](caf::error&) {});
  return ps;
}

void shutdown(caf::scoped_actor& self, const bus_actor& bus,
              const std::vector<projector_actor>& ps) {
  for (auto& p : ps)
    self->send_exit(p, caf::exit_reason::user_shutdown);
  self->send_exit(bus, caf::exit_reason::user_shutdown);
}

} // namespace

// Appends `batches` to `log` as the bus does under the log's policy: with
// an interval, sync() once the oldest unsynced batch is that old, and at
// the end, so that every event counted is durable.
void append_durably(bus::event_log& log, std::vector<std::vector<bus::event>> batches) {
  auto interval = log.sync_interval();
  auto oldest = clock_type::time_point{};
  for (auto& b : batches) {
    log.append(std::move(b));
    if (interval.count() == 0)
      continue;
    auto now = clock_type::now();
    if (oldest == clock_type::time_point{})
      oldest = now; // the first batch since the last sync
    if (now - oldest >= interval) {
      log.sync();
      oldest = clock_type::time_point{};
    }
  }
  log.sync();
}

// The options of a projector that catches up in a scenario.
projector_options catching_up(const options& opt) {
  projector_options result;
  result.replay_ahead = opt.replay_ahead;
  return result;
}

// The model's own share of a catch-up or rebuild: the same events, already
// decoded in memory, applied by the same model in one thread. A backlog
// cannot be caught up faster than this, however cheap reading and decoding
// get (issue 11 asks for 1 M in under 100 ms).
double apply_alone_rate(const std::vector<bus::event>& events) {
  bench::sum_model model{"alone"};
  bus::processed_ids dedup;
  std::uint64_t seq = 0;
  auto t0 = clock_type::now();
  for (auto& e : events)
    if (dedup.insert(++seq))
      model.apply(e);
  return per_second(events.size(), seconds_since(t0));
}

// Publish -> log -> 4 projectors with dedup -> applied; returns the median
// rate of the framework.
double pipeline(const options& opt, const std::vector<bus::event>& events,
                report& out) {
  std::vector<double> bus_rates, loop_rates;
  for (std::size_t run = 0; run < opt.runs; ++run) {
    {
      auto batches = split(events, opt.batch_size);
      system_holder h;
      caf::scoped_actor self{*h.sys};
      auto bus = spawn_bus(*h.sys, std::make_shared<bus::memory_log>(), bus_options{});
      auto ps = spawn_projectors(*h.sys, bus, 4, self);
      auto t0 = clock_type::now();
      for (auto& b : batches)
        caf::anon_send(bus, publish_atom::value, std::move(b), publish_wait::log);
      wait_caught_up(self, ps, events.size());
      bus_rates.push_back(per_second(events.size(), seconds_since(t0)));
      shutdown(self, bus, ps);
    }
    {
      auto batches = split(events, opt.batch_size);
      bus::memory_log log;
      std::vector<bench::sum_model> models;
      std::vector<bus::processed_ids> dedup(4);
      for (int i = 0; i < 4; ++i)
        models.emplace_back("m" + std::to_string(i));
      auto t0 = clock_type::now();
      for (auto& b : batches) {
        auto result = log.append(std::move(b));
        for (std::size_t m = 0; m < 4; ++m)
          for (auto& e : result.appended)
            if (dedup[m].insert(e.seq))
              models[m].apply(e);
      }
      loop_rates.push_back(per_second(events.size(), seconds_since(t0)));
    }
  }
  out.rate("pipeline", "pipeline: publish, log, 4 projectors", median(bus_rates),
           median(loop_rates), "append + 4 x (dedup + apply), 1 thread");
  return median(bus_rates);
}

// Open-loop latency from publish to applied by all 4 projectors, at a fixed
// rate (see bench::measure_latency), beside the machine's noise floor.
void latency(const std::vector<bus::event>& events, double per_second,
             const std::string& id, report& out) {
  system_holder h;
  caf::scoped_actor self{*h.sys};
  auto bus = spawn_bus(*h.sys, std::make_shared<bus::memory_log>(), open_loop_bus());
  auto ps = spawn_projectors(*h.sys, bus, 4, self);
  auto page_us = fresh_page_us(); // before the clock: it takes tens of ms
  noise_floor floor; // in the same run: the same machine, the same neighbours
  auto measured = measure_latency(*h.sys, bus, events, per_second, default_keys);
  out.latency(id, "latency publish -> applied by 4 projectors", per_second,
              latency_batch, measured, floor.stop(), page_us);
  shutdown(self, bus, ps);
}

// Appending to the durable log under each policy, beside the memory log.
void durable_append(const options& opt, const std::vector<bus::event>& events,
                    report& out) {
  for (auto policy : {bus::durability{bus::durability::fsync_each_batch},
                      bus::durability{bus::durability::os_buffered},
                      bus::durability::every(std::chrono::milliseconds{10})}) {
    std::vector<double> store_rates, memory_rates, memory_batch_us;
    for (std::size_t run = 0; run < opt.runs; ++run) {
      auto path = opt.store_dir / ("bus-bench-append-" + std::to_string(run) + ".db");
      std::filesystem::remove(path);
      {
        auto batches = split(events, opt.batch_size);
        auto log = bus::sqlite_log::open(path.string(), policy);
        if (!log) {
          BUS_LOG(bus::log_level::error, "bus-bench",
                  "cannot open " << path.string() << ": "
                                 << bus::context_of(log.error()));
          return;
        }
        auto t0 = clock_type::now();
        append_durably(**log, std::move(batches));
        store_rates.push_back(per_second(events.size(), seconds_since(t0)));
      }
      for (auto suffix : {"", "-wal", "-shm"})
        std::filesystem::remove(path.string() + suffix);
      auto batches = split(events, opt.batch_size);
      bus::memory_log memory;
      auto t0 = clock_type::now();
      for (auto& b : batches) {
        auto start = clock_type::now();
        memory.append(std::move(b));
        memory_batch_us.push_back(seconds_since(start) * 1e6);
      }
      memory_rates.push_back(per_second(events.size(), seconds_since(t0)));
    }
    auto name = bus::to_string(policy);
    std::replace(name.begin(), name.end(), ':', '_');
    // What the bus's thread waits per batch of the memory log, every run.
    auto batch = percentiles_of(memory_batch_us);
    char note[96];
    std::snprintf(note, sizeof(note),
                  "memory_log per batch: p50 %.0f us, p99 %.0f us, max %.0f us",
                  batch.p50, batch.p99, batch.max);
    out.rate("append_" + name, "durable append (" + bus::to_string(policy) + ")",
             median(store_rates), median(memory_rates), "memory_log append",
             {{"loop_batch_p50_us", batch.p50},
              {"loop_batch_p99_us", batch.p99},
              {"loop_batch_max_us", batch.max}},
             note);
  }
}

// A projector rebuilding from the durable log, beside a raw read-and-apply.
void rebuild_from_store(const options& opt, const std::vector<bus::event>& events,
                        report& out) {
  auto path = opt.store_dir / "bus-bench-rebuild.db";
  std::filesystem::remove(path);
  {
    auto log = bus::sqlite_log::open(path.string(), bus::durability::os_buffered);
    for (auto& b : split(events, 16384))
      (*log)->append(std::move(b));
  }
  std::vector<double> bus_rates, loop_rates, alone_rates;
  for (std::size_t run = 0; run < opt.runs; ++run) {
    alone_rates.push_back(apply_alone_rate(events));
    {
      auto log = bus::sqlite_log::open(path.string(), bus::durability::os_buffered);
      system_holder h;
      caf::scoped_actor self{*h.sys};
      auto bus = spawn_bus(*h.sys, std::shared_ptr<bus::event_log>{*log},
                           bus_options{});
      auto t0 = clock_type::now();
      auto ps = std::vector<projector_actor>{
        spawn_projector(*h.sys, bus, bench::sum_spec("rebuilt"), catching_up(opt))};
      wait_caught_up(self, ps, events.size());
      bus_rates.push_back(per_second(events.size(), seconds_since(t0)));
      shutdown(self, bus, ps);
    }
    {
      auto log = bus::sqlite_log::open(path.string(), bus::durability::os_buffered);
      bench::sum_model model{"raw"};
      auto t0 = clock_type::now();
      bus::for_each_batch(**log, [&](const bus::event_batch& batch) {
        for (auto& e : batch)
          model.apply(e);
      });
      loop_rates.push_back(per_second(events.size(), seconds_since(t0)));
    }
  }
  for (auto suffix : {"", "-wal", "-shm"})
    std::filesystem::remove(path.string() + suffix);
  out.rate("rebuild", "rebuild from the durable log", median(bus_rates),
           median(loop_rates), "read store + apply",
           {{"apply_alone_events_per_s", median(alone_rates)}},
           "the model alone on decoded events: " + rate(median(alone_rates)));
}

// A projector catching up a backlog in the memory log.
void recovery(const options& opt, const std::vector<bus::event>& events, report& out) {
  std::vector<double> bus_rates, loop_rates, millis, alone_rates;
  for (std::size_t run = 0; run < opt.runs; ++run) {
    alone_rates.push_back(apply_alone_rate(events));
    auto log = std::make_shared<bus::memory_log>();
    for (auto& b : split(events, opt.batch_size))
      log->append(std::move(b));
    {
      system_holder h;
      caf::scoped_actor self{*h.sys};
      auto bus = spawn_bus(*h.sys, log, bus_options{});
      auto t0 = clock_type::now();
      auto ps = std::vector<projector_actor>{
        spawn_projector(*h.sys, bus, bench::sum_spec("late"), catching_up(opt))};
      wait_caught_up(self, ps, events.size());
      auto s = seconds_since(t0);
      bus_rates.push_back(per_second(events.size(), s));
      millis.push_back(s * 1000);
      shutdown(self, bus, ps);
    }
    bench::sum_model model{"loop"};
    bus::processed_ids dedup;
    auto t0 = clock_type::now();
    bus::for_each_batch(*log, [&](const bus::event_batch& batch) {
      for (auto& e : batch)
        if (dedup.insert(e.seq))
          model.apply(e);
    });
    loop_rates.push_back(per_second(events.size(), seconds_since(t0)));
  }
  out.rate("recovery",
           "catch-up of the whole backlog ("
             + std::to_string(static_cast<int>(median(millis))) + " ms)",
           median(bus_rates), median(loop_rates), "read memory log + dedup + apply",
           {{"ms", median(millis)}, {"apply_alone_events_per_s", median(alone_rates)}},
           "the model alone on decoded events: " + rate(median(alone_rates)) + " ("
             + std::to_string(static_cast<int>(
               1000.0 * static_cast<double>(events.size()) / median(alone_rates)))
             + " ms)");
}

// Heap bytes per processed event: processed_ids against a string set.
void dedup_memory(std::size_t n, report& out) {
  auto used = [] { return heap_bytes_in_use(); };
  bus::processed_ids ids;
  for (std::uint64_t seq = 1; seq <= n; ++seq)
    ids.insert(seq);
  auto ours = static_cast<double>(ids.memory_bytes()) / static_cast<double>(n);
  auto before = used();
  {
    std::unordered_set<std::string> set;
    for (std::size_t i = 0; i < n; ++i)
      set.insert("e" + std::to_string(i));
    auto theirs = (used() - before) / static_cast<double>(n);
    out.memory("dedup_memory", "dedup memory per processed event", ours, theirs,
               "std::unordered_set<std::string> of the " + std::to_string(n / 1000000)
                 + " M ids");
  }
}

void noise_floor_alone(report& out) {
  auto page_us = fresh_page_us();
  noise_floor floor;
  auto t0 = clock_type::now();
  std::this_thread::sleep_for(std::chrono::seconds{2});
  auto seconds = seconds_since(t0);
  out.floor("floor", "noise floor, nothing else running", floor.stop(), page_us,
            seconds);
}

} // namespace bench
