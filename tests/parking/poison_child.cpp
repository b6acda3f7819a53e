// bus-poison-child: a bus on a durable sqlite_log store with two poisoned
// read models (poison_models.hpp) that park their poison events, driven by
// the crash test (parking_crash.test.cpp), which kills it with SIGKILL and
// starts it again on the same store.
//
//   bus-poison-child --store PATH --mode publish|report|retry [--fixed]
//
// Every mode prints "started", waits until the models are ready, then:
// - publish: publishes the stream (poison_stream.hpp) in awaited batches,
//   one at a time, printing "ack <first index> <flags>" per answer (flags:
//   one letter per event, 'n' appended now, 'd' a duplicate of an event the
//   log holds); the test kills it after some of these lines;
// - report: the same, then "parked <model> <entries>", "state <model>
//   <state>" for both models and "log <events>", all JSON;
// - retry: retries every parked event of both models, prints "retried
//   <model> <done> <still parked>" for each, then waits to be killed.
// `--fixed` makes the models stop throwing. Failures print "error <text>"
// and exit 3; bad arguments exit 2.

#include <csignal>
#include <iostream>
#include <set>
#include <string>
#include <unistd.h>
#include <vector>

#include <boost/json/serialize.hpp>
#include <caf/all.hpp>

#include "bus/actors/bus_actor.hpp"
#include "bus/actors/init.hpp"
#include "bus/actors/supervisor.hpp"
#include "bus/event_codec.hpp"
#include "bus/sqlite_log.hpp"
#include "poison_models.hpp"
#include "poison_stream.hpp"

using namespace bus;
using namespace bus::actors;
using namespace bus::parking::test;

namespace {

// Generous: a loaded machine is slow, and the test's own limit ends a hang.
constexpr auto timeout = std::chrono::seconds{60};

[[noreturn]] void die(const std::string& what) {
  std::cout << "error " << what << std::endl;
  std::_Exit(3);
}

event stream_event(std::size_t i) {
  event e;
  e.id = event_id(i);
  e.type = i % 2 == 0 ? "Set" : "Add";
  auto n = static_cast<std::int64_t>(i);
  e.payload = {{"id", event_key(i)}, {"n", n}, {"f" + std::to_string(i % 3), n}};
  return e;
}

std::set<std::string> poison_ids(bool (*poisoned)(std::size_t)) {
  std::set<std::string> result;
  for (std::size_t i = 0; i < stream_size; ++i)
    if (poisoned(i))
      result.insert(event_id(i));
  return result;
}

// Parks after two attempts, 1 ms apart: the crash points fall before,
// during and after parking.
recovery_policy park_quickly() {
  recovery_policy result;
  result.attempts = 2;
  result.backoff = std::chrono::milliseconds{1};
  result.max_backoff = std::chrono::milliseconds{1};
  result.then = on_poison::park;
  result.order = key_order::per_key;
  return result;
}

struct child {
  explicit child(caf::actor_system& system) : sys(system) {
    // nop
  }

  caf::actor_system& sys;
  caf::scoped_actor self{sys};
  bus_actor bus;
  supervisor_actor sup;

  template <class T, class Handle, class... Ts>
  T ask(const Handle& dest, Ts&&... xs) {
    std::optional<T> result;
    self->request(dest, timeout, std::forward<Ts>(xs)...)
      .receive([&](T& x) { result = std::move(x); },
               [&](caf::error& err) { die(sys.render(err)); });
    return std::move(*result);
  }

  void publish_stream() {
    for (std::size_t first = 0; first < stream_size; first += batch_size) {
      std::vector<event> batch;
      for (auto i = first; i < std::min(first + batch_size, stream_size); ++i)
        batch.push_back(stream_event(i));
      auto ack = ask<publish_ack>(bus, publish_atom::value, std::move(batch),
                                  publish_wait::projectors);
      std::string flags;
      for (auto& o : ack.outcomes)
        flags += o.duplicate ? 'd' : 'n';
      std::cout << "ack " << first << ' ' << flags << std::endl;
    }
  }

  void report() {
    for (std::string model : {"tally", "listing"}) {
      auto parked = ask<parked_list>(sup, parked_atom::value, model);
      std::cout << "parked " << model << ' ' << boost::json::serialize(parked.entries)
                << std::endl;
      auto snap = ask<model_snapshot>(sup, snapshot_atom::value, model);
      std::cout << "state " << model << ' ' << boost::json::serialize(snap.state)
                << std::endl;
    }
    boost::json::array events;
    for (std::uint64_t next = 1;;) {
      auto batch = ask<event_batch>(bus, replay_atom::value, next, std::uint32_t{256});
      if (batch.empty())
        break;
      for (auto& e : batch)
        events.push_back(to_json(e));
      next = batch.last_seq() + 1;
    }
    std::cout << "log " << boost::json::serialize(events) << std::endl;
  }

  void retry() {
    for (std::string model : {"tally", "listing"}) {
      auto left = ask<parked_list>(sup, unpark_atom::value, model, std::uint64_t{0});
      std::cout << "retried " << model << ' ' << left.done << ' '
                << left.entries.as_array().size() << std::endl;
    }
  }
};

} // namespace

int main(int argc, char** argv) {
  std::string store;
  std::string mode;
  bool fixed = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--store" && i + 1 < argc)
      store = argv[++i];
    else if (arg == "--mode" && i + 1 < argc)
      mode = argv[++i];
    else if (arg == "--fixed")
      fixed = true;
    else
      return 2;
  }
  if (store.empty() || (mode != "publish" && mode != "report" && mode != "retry"))
    return 2;
  auto log = sqlite_log::open(store);
  if (!log)
    die("cannot open the store " + store);
  caf::actor_system_config cfg;
  bus::init(cfg);
  cfg.set("logger.verbosity", caf::atom("quiet"));
  caf::actor_system sys{cfg};
  std::vector<model_spec> specs;
  auto tally_poison_ids = poison_ids(tally_poison);
  auto listing_poison_ids = poison_ids(listing_poison);
  specs.push_back(
    {"tally", [=] { return std::make_unique<poisoned_tally>(tally_poison_ids, fixed); },
     model_storage::memory, park_quickly()});
  specs.push_back(
    {"listing",
     [=] { return std::make_unique<poisoned_listing>(listing_poison_ids, fixed); },
     model_storage::sqlite, park_quickly()});
  projector_options options;
  options.snapshot_path = store + ".snapshots";
  options.snapshot_every = 5; // often: crashes fall between and during snapshots
  options.models_path = store + ".models";
  options.replay_batch = 64;
  child c{sys};
  c.bus = spawn_bus(sys, *log, bus_options{});
  c.sup = spawn_supervisor(sys, c.bus, specs, supervision_policy{}, options);
  // Before the models have caught up: a kill after this line falls into
  // their restore and replay, where poison events of the tail park again.
  std::cout << "started" << std::endl;
  c.ask<std::vector<projector_status>>(c.sup, ready_atom::value);
  if (mode == "retry") {
    c.retry();
    ::pause(); // the test kills it: the retry must be durable by now
  }
  c.publish_stream();
  if (mode == "report")
    c.report();
  c.self->send_exit(c.sup, caf::exit_reason::user_shutdown);
  c.self->send_exit(c.bus, caf::exit_reason::user_shutdown);
  return 0;
}
