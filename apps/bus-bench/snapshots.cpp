#include "snapshots.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "bus/actors/bus_actor.hpp"
#include "bus/actors/projector.hpp"
#include "bus/config.hpp"
#include "bus/errc.hpp"
#include "bus/log.hpp"
#include "bus/memory_log.hpp"
#include "bus/sqlite_log.hpp"

using namespace bus::actors;

namespace bench {

namespace {

// Users 0 .. n/10 - 1 created in order, then updated at random, as
// `bus-gen --users-first` writes them: the key space stays at n/10 users.
std::vector<bus::event> user_events(std::size_t n) {
  auto users = std::max<std::size_t>(1, n / 10);
  std::mt19937_64 rng{42};
  std::vector<bus::event> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    auto user = std::to_string(i < users ? i : rng() % users);
    bus::event e;
    e.id = "e" + std::to_string(i + 1);
    e.type = i < users ? "UserCreated" : "UserUpdated";
    e.payload = {{"id", "user-" + user},
                 {"name", "User " + user},
                 {"email",
                  "u" + user + "-" + std::to_string((i + 1) % 7) + "@example.org"}};
    out.push_back(std::move(e));
  }
  return out;
}

// The read models bus-node runs by default.
std::vector<bus::model_spec> node_models() {
  auto config = bus::parse_config(bus::default_config_text());
  if (!config)
    return {};
  return config->read_models;
}

// Where a run keeps its log.
enum class log_kind { memory, store };

struct variant {
  std::string name;
  log_kind log;
  /// 0: no snapshots.
  std::uint64_t snapshot_every;
};

// Publishes `events` to a bus on the log of `v` (unawaited, as the pipeline
// scenario does) and returns the rate until both models caught up.
double run_once(const options& opt, const std::vector<bus::event>& events,
                const variant& v) {
  auto dir = opt.store_dir / "bus-bench-snapshots";
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::filesystem::create_directories(dir);
  std::shared_ptr<bus::event_log> log;
  if (v.log == log_kind::memory) {
    log = std::make_shared<bus::memory_log>();
  } else {
    auto store = bus::sqlite_log::open((dir / "bus.db").string(),
                                       bus::durability::fsync_each_batch);
    if (!store) {
      BUS_LOG(bus::log_level::error, "bus-bench",
              "cannot open a store in " << dir.string() << ": "
                                        << bus::context_of(store.error()));
      return 0;
    }
    log = std::move(*store);
  }
  double result = 0;
  {
    system_holder h;
    caf::scoped_actor self{*h.sys};
    auto bus = spawn_bus(*h.sys, log, bus_options{});
    projector_options popt;
    if (v.snapshot_every > 0) {
      popt.snapshot_path = (dir / "bus.db.snapshots").string();
      popt.snapshot_every = v.snapshot_every;
    }
    std::vector<projector_actor> ps;
    for (auto& spec : node_models())
      ps.push_back(spawn_projector(*h.sys, bus, spec, popt));
    for (auto& p : ps) // subscribed and caught up before the clock starts
      self->request(p, caf::infinite, ready_atom::value)
        .receive([](projector_status&) {}, [](caf::error&) {});
    auto batches = split(events, opt.batch_size);
    auto t0 = clock_type::now();
    for (auto& b : batches)
      caf::anon_send(bus, publish_atom::value, std::move(b), publish_wait::log);
    wait_caught_up(self, ps, events.size());
    result = per_second(events.size(), seconds_since(t0));
    for (auto& p : ps)
      self->send_exit(p, caf::exit_reason::user_shutdown);
    self->send_exit(bus, caf::exit_reason::user_shutdown);
  }
  log.reset();
  std::filesystem::remove_all(dir, ec);
  return result;
}

// The same applies in one thread: both models, every event.
double snapshots_loop(const std::vector<bus::event>& events) {
  auto specs = node_models();
  std::vector<bus::read_model_ptr> models;
  for (auto& spec : specs)
    models.push_back(spec.make());
  auto t0 = clock_type::now();
  for (auto& e : events)
    for (auto& m : models)
      if (m->handles(e.type))
        m->apply(e);
  return per_second(events.size(), seconds_since(t0));
}

} // namespace

void snapshots(const options& opt, report& out) {
  auto events = user_events(opt.events);
  // The node's default, or a hundredth of the stream below a million
  // events, so that a short run snapshots too.
  std::uint64_t every = std::clamp<std::uint64_t>(opt.events / 100, 1, 10000);
  std::vector<variant> variants{
    {"node models: memory log", log_kind::memory, 0},
    {"node models: store (fsync), no snapshots", log_kind::store, 0},
    {"node models: store, snapshots every " + std::to_string(every), log_kind::store,
     every},
  };
  std::vector<std::vector<double>> rates(variants.size());
  std::vector<double> loop_rates;
  // Interleaved, so that the machine's noise hits every variant alike.
  for (std::size_t run = 0; run < opt.runs; ++run) {
    for (std::size_t i = 0; i < variants.size(); ++i)
      rates[i].push_back(run_once(opt, events, variants[i]));
    loop_rates.push_back(snapshots_loop(events));
  }
  auto loop = median(loop_rates);
  auto with = median(rates[2]);
  auto without = median(rates[1]);
  auto memory = median(rates[0]);
  const char* ids[] = {"snapshots_memory_log", "snapshots_store",
                       "snapshots_store_snapshots"};
  for (std::size_t i = 0; i < variants.size(); ++i) {
    boost::json::object extra;
    std::string note;
    if (i == 2) {
      // What snapshots cost: the rate with them over the rate without.
      extra["of_store_without"] = without > 0 ? with / without : 0;
      extra["of_memory_log"] = memory > 0 ? with / memory : 0;
      char text[96];
      std::snprintf(text, sizeof text,
                    "%.2fx of the store without, %.2fx of the memory log",
                    with / std::max(without, 1e-9), with / std::max(memory, 1e-9));
      note = text;
    }
    out.rate(ids[i], variants[i].name, median(rates[i]), loop,
             "apply to both models, 1 thread", std::move(extra), note);
  }
}

} // namespace bench
