#include "memory.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <unistd.h>
#include <unordered_set>
#include <vector>

#include <caf/all.hpp>

#include "bus/actors/bus_actor.hpp"
#include "bus/actors/projector.hpp"
#include "bus/memory_log.hpp"
#include "bus/sqlite_log.hpp"
#include "allocator.hpp"
#include "workload.hpp"

using namespace bus::actors;

namespace bench {

namespace {

// The process's resident memory: heap, mappings (the logs' indexes and
// filters are anonymous mappings, not heap) and SQLite's page cache, all
// threads. Free heap memory is given back first, so that what is counted
// is what is held.
double resident_bytes() {
  give_back_free_memory();
  std::ifstream statm{"/proc/self/statm"};
  std::size_t size = 0, resident = 0;
  statm >> size >> resident;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

// Publishes the events [first, first + n) in batches, each appended before
// the next is sent, and waits until every projector applied them.
void publish(caf::scoped_actor& self, const bus_actor& bus,
             const std::vector<projector_actor>& ps, std::size_t first, std::size_t n,
             std::size_t batch) {
  for (auto i = first; i < first + n; i += batch) {
    auto events = make_event_range(i, std::min(batch, first + n - i));
    self
      ->request(bus, caf::infinite, publish_atom::value, std::move(events),
                publish_wait::log)
      .receive([](publish_ack&) {},
               [](caf::error& err) {
                 std::cerr << "bus-bench: publish failed: " << to_string(err) << "\n";
               });
  }
  wait_caught_up(self, ps, first + n);
}

// Bytes per event the process grows by on `log`, from `opt.events` events
// to four times as many: the slope of the resident memory measured after
// each `opt.events` (a least-squares fit, so that the noise of one sample,
// some megabytes of heap fragmentation, weighs little).
double growth_per_event(const options& opt, std::shared_ptr<bus::event_log> log) {
  system_holder h;
  caf::scoped_actor self{*h.sys};
  auto bus = spawn_bus(*h.sys, std::move(log), bus_options{});
  std::vector<projector_actor> ps;
  for (int i = 0; i < 4; ++i)
    ps.push_back(spawn_projector(*h.sys, bus, sum_spec("m" + std::to_string(i)),
                                 projector_options{}));
  // The first part fills every bounded cache (the logs' tails, SQLite's
  // pages, the models' keys): growth past it is what history costs.
  constexpr int points = 4;
  std::vector<double> xs, ys;
  for (int i = 0; i < points; ++i) {
    publish(self, bus, ps, static_cast<std::size_t>(i) * opt.events, opt.events,
            opt.batch_size);
    xs.push_back(static_cast<double>(static_cast<std::size_t>(i + 1) * opt.events));
    ys.push_back(resident_bytes());
  }
  for (auto& p : ps)
    self->send_exit(p, caf::exit_reason::user_shutdown);
  self->send_exit(bus, caf::exit_reason::user_shutdown);
  auto mean = [](const std::vector<double>& v) {
    double sum = 0;
    for (auto x : v)
      sum += x;
    return sum / static_cast<double>(v.size());
  };
  auto mx = mean(xs), my = mean(ys);
  double sxy = 0, sxx = 0;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) * (xs[i] - mx);
  }
  return sxy / sxx;
}

// Heap bytes per id of a std::unordered_set<std::string> of `n` ids.
double string_set_per_event(std::size_t n) {
  auto used = [] { return heap_bytes_in_use(); };
  auto before = used();
  std::unordered_set<std::string> set;
  for (std::size_t i = 0; i < n; ++i)
    set.insert("e" + std::to_string(i));
  return (used() - before) / static_cast<double>(n);
}

} // namespace

void memory_per_event(const options& opt, report& out) {
  auto loop = string_set_per_event(opt.events);
  auto path = opt.store_dir / "bus-bench-memory.db";
  auto remove_store = [&] {
    for (auto suffix : {"", "-wal", "-shm"})
      std::filesystem::remove(path.string() + suffix);
  };
  remove_store();
  auto store = bus::sqlite_log::open(path.string(), bus::durability::os_buffered);
  if (!store) {
    std::cerr << "bus-bench: cannot open " << path << "\n";
    return;
  }
  auto durable = growth_per_event(opt, std::move(*store));
  remove_store();
  auto memory = growth_per_event(opt, std::make_shared<bus::memory_log>());
  out.memory("memory_durable", "memory per event, durable log (process)", durable, loop,
             "std::unordered_set<std::string> of the ids");
  out.memory("memory_memory_log", "memory per event, memory log (process)", memory,
             loop, "std::unordered_set<std::string> of the ids");
}

} // namespace bench
