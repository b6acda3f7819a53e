// bus-bench: throughput of the framework beside plain single-thread loops
// doing the same work in the same process. Not a test: it prints a table of
// medians over several runs. The machine is noisy; compare ratios.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <caf/all.hpp>

#include "bus/actors/bus_actor.hpp"
#include "bus/actors/init.hpp"
#include "bus/actors/projector.hpp"
#include "bus/errc.hpp"
#include "bus/log.hpp"
#include "bus/memory_log.hpp"
#include "bus/processed_ids.hpp"
#include "bus/sqlite_log.hpp"
#include "command_line.hpp"
#include "harness.hpp"
#include "memory.hpp"
#include "remote.hpp"
#include "snapshots.hpp"
#include "workload.hpp"

using namespace bus::actors;
using namespace bench;

namespace {

constexpr const char* summary =
  "bus-bench: throughput of the framework beside plain single-thread loops "
  "doing the same work in the same process; prints a table of medians.";

constexpr const char* details = R"(Runs each scenario R times (default 3) on N events (default 1000000) in
batches of --batch-size (default 1024) and prints medians beside a plain
loop doing the same work. DIR (default: the system's temp dir) holds the
SQLite stores. --only runs just the named scenarios: pipeline, recovery,
append, rebuild, memory (what the whole process grows by per event: a bus
and 4 projectors on each log, from N events to 4N; "dedup" is the same),
latency (latency also runs the pipeline, for its maximum rate), remote (a
bus and two projector nodes on loopback, and its latency), snapshots (the
node's two read models on the memory log, on a store, and on a store with
snapshots every 10000 events). The old
spellings --batch N and --dir DIR still work.
)";

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

// Publish -> log -> 4 projectors with dedup -> applied; returns the median
// rate of the framework.
double pipeline(const options& opt, const std::vector<bus::event>& events) {
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
      bus_rates.push_back(events.size() / seconds_since(t0));
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
      loop_rates.push_back(events.size() / seconds_since(t0));
    }
  }
  row("pipeline: publish, log, 4 projectors", median(bus_rates), median(loop_rates),
      "append + 4 x (dedup + apply), 1 thread");
  return median(bus_rates);
}

// Open-loop latency from publish to applied by all 4 projectors, at a fixed
// rate (see bench::measure_latency).
void latency(const std::vector<bus::event>& events, double per_second) {
  system_holder h;
  caf::scoped_actor self{*h.sys};
  auto bus = spawn_bus(*h.sys, std::make_shared<bus::memory_log>(), open_loop_bus());
  auto ps = spawn_projectors(*h.sys, bus, 4, self);
  measure_latency(*h.sys, bus, events, per_second,
                  "latency publish -> applied by 4 projectors");
  shutdown(self, bus, ps);
}

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

// Appending to the durable log under each policy, beside the memory log.
void durable_append(const options& opt, const std::vector<bus::event>& events) {
  for (auto policy : {bus::durability{bus::durability::fsync_each_batch},
                      bus::durability{bus::durability::os_buffered},
                      bus::durability::every(std::chrono::milliseconds{10})}) {
    std::vector<double> store_rates, memory_rates;
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
        store_rates.push_back(events.size() / seconds_since(t0));
      }
      for (auto suffix : {"", "-wal", "-shm"})
        std::filesystem::remove(path.string() + suffix);
      auto batches = split(events, opt.batch_size);
      bus::memory_log memory;
      auto t0 = clock_type::now();
      for (auto& b : batches)
        memory.append(std::move(b));
      memory_rates.push_back(events.size() / seconds_since(t0));
    }
    row("durable append (" + bus::to_string(policy) + ")",
        median(store_rates), median(memory_rates), "memory_log append");
  }
}

// A projector rebuilding from the durable log, beside a raw read-and-apply.
void rebuild_from_store(const options& opt, const std::vector<bus::event>& events) {
  auto path = opt.store_dir / "bus-bench-rebuild.db";
  std::filesystem::remove(path);
  {
    auto log = bus::sqlite_log::open(path.string(), bus::durability::os_buffered);
    for (auto& b : split(events, 16384))
      (*log)->append(std::move(b));
  }
  std::vector<double> bus_rates, loop_rates;
  for (std::size_t run = 0; run < opt.runs; ++run) {
    {
      auto log = bus::sqlite_log::open(path.string(), bus::durability::os_buffered);
      system_holder h;
      caf::scoped_actor self{*h.sys};
      auto bus =
        spawn_bus(*h.sys, std::shared_ptr<bus::event_log>{*log}, bus_options{});
      auto t0 = clock_type::now();
      auto ps = std::vector<projector_actor>{
        spawn_projector(*h.sys, bus, bench::sum_spec("rebuilt"), projector_options{})};
      wait_caught_up(self, ps, events.size());
      bus_rates.push_back(events.size() / seconds_since(t0));
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
      loop_rates.push_back(events.size() / seconds_since(t0));
    }
  }
  for (auto suffix : {"", "-wal", "-shm"})
    std::filesystem::remove(path.string() + suffix);
  row("rebuild from the durable log", median(bus_rates),
      median(loop_rates), "read store + apply");
}

// A projector catching up a backlog in the memory log.
void recovery(const options& opt, const std::vector<bus::event>& events) {
  std::vector<double> bus_rates, loop_rates, millis;
  for (std::size_t run = 0; run < opt.runs; ++run) {
    auto log = std::make_shared<bus::memory_log>();
    for (auto& b : split(events, opt.batch_size))
      log->append(std::move(b));
    {
      system_holder h;
      caf::scoped_actor self{*h.sys};
      auto bus = spawn_bus(*h.sys, log, bus_options{});
      auto t0 = clock_type::now();
      auto ps = std::vector<projector_actor>{
        spawn_projector(*h.sys, bus, bench::sum_spec("late"), projector_options{})};
      wait_caught_up(self, ps, events.size());
      auto s = seconds_since(t0);
      bus_rates.push_back(events.size() / s);
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
    loop_rates.push_back(events.size() / seconds_since(t0));
  }
  row("catch-up of the whole backlog (" + std::to_string(static_cast<int>(median(millis)))
        + " ms)",
      median(bus_rates), median(loop_rates), "read memory log + dedup + apply");
}

} // namespace

int main(int argc, char** argv) {
  options opt;
  bus::app::command_line cli{"bus-bench", summary, details};
  auto& app = cli.app();
  using bus::app::count_in;
  app.add_option("--events", opt.events, "Events per run (default 1000000)")
    ->transform(count_in(1, 10'000'000))
    ->type_name("N");
  app.add_option("--runs", opt.runs, "Runs per scenario (default 3)")
    ->transform(count_in(1, 1000))
    ->type_name("R");
  app.add_option("--batch-size", opt.batch_size, "Events per batch (default 1024)")
    ->transform(count_in(1, 1 << 20))
    ->type_name("N");
  app.add_option("--batch", opt.batch_size)->transform(count_in(1, 1 << 20))->group("");
  app.add_option("--store-dir", opt.store_dir,
                 "Where the scenarios create their SQLite stores (default: "
                 "the system's temp dir)")
    ->type_name("DIR");
  app.add_option("--dir", opt.store_dir)->group("");
  app.add_option("--only", opt.only, "Run just these scenarios (comma-separated)")
    ->delimiter(',')
    ->check(bus::app::one_of(scenarios))
    ->type_name("S[,S...]");
  cli.add_logging();
  if (auto status = cli.parse(argc, argv))
    return *status;
  auto events = bench::make_events(opt.events);
  std::printf("bus-bench: %zu events, batches of %zu, median of %zu runs, %u cores\n\n",
              opt.events, opt.batch_size, opt.runs, std::thread::hardware_concurrency());
  std::printf("%-44s %12s   %12s   %6s\n", "scenario", "bus", "plain loop", "ratio");
  double max_rate = 0;
  if (opt.runs_scenario("pipeline") || opt.runs_scenario("latency"))
    max_rate = pipeline(opt, events);
  if (opt.runs_scenario("recovery"))
    recovery(opt, events);
  if (opt.runs_scenario("append"))
    durable_append(opt, events);
  if (opt.runs_scenario("rebuild"))
    rebuild_from_store(opt, events);
  if (opt.runs_scenario("memory") || opt.runs_scenario("dedup"))
    memory_per_event(opt);
  // At half the pipeline's maximum, and at a quarter: the tail shows where
  // the awaited path (an acknowledgement per projector per batch) saturates.
  if (opt.runs_scenario("latency")) {
    latency(events, max_rate / 2);
    latency(events, max_rate / 4);
  }
  if (opt.runs_scenario("remote")) {
    auto remote_max = remote_pipeline(opt, events);
    remote_latency(events, remote_max / 2);
  }
  if (opt.runs_scenario("snapshots"))
    snapshots(opt);
  return 0;
}
