// bus-demo: the framework on its embedded default, end to end. It publishes
// a generated stream of a small shop (users and orders, with redeliveries)
// to a bus on a durable store in a data directory, lets four projectors
// build their read models while one of them fails once midway, and reports
// what happened.

#include <atomic>
#include <chrono>
#include <filesystem>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>

#include <boost/json/serialize.hpp>
#include <caf/all.hpp>

#include "bus/actors/bus_actor.hpp"
#include "bus/actors/init.hpp"
#include "bus/actors/supervisor.hpp"
#include "bus/config.hpp"
#include "bus/document_model.hpp"
#include "bus/errc.hpp"
#include "bus/memory_log.hpp"
#include "bus/sqlite_log.hpp"
#include "order_totals.hpp"
#include "stream.hpp"

using namespace bus::actors;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr const char* usage = R"(usage: bus-demo [--events N] [--redeliveries PERCENT] [--batch N] [--fail-at N]
                [--data DIR | --memory] [--keep]

Publishes N generated events (default 200000; PERCENT redelivered, default
10) in batches of N (default 1024) to a bus with four read models;
order_totals fails once on its event number --fail-at (default: half of its
events; 0: never). The log lives in the SQLite store DIR/demo.db (default
DIR: ./bus-demo-data), started afresh on every run unless --keep is given:
then the previous run's store is reopened, the read models come back from
it, and the same stream is answered as redeliveries. --memory keeps the log
in memory instead.
)";

std::string with_commas(std::uint64_t n) {
  auto s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3)
    s.insert(static_cast<std::size_t>(i), ",");
  return s;
}

bool number_arg(int& i, int argc, char** argv, std::uint64_t& out) {
  if (i + 1 >= argc)
    return false;
  char* end = nullptr;
  out = std::strtoull(argv[++i], &end, 10);
  return end != argv[i] && *end == '\0';
}

} // namespace

int main(int argc, char** argv) {
  demo::stream_options stream;
  std::uint64_t batch_size = 1024;
  std::uint64_t fail_at = 0;
  bool fail_at_given = false;
  std::filesystem::path data_dir = "bus-demo-data";
  bool in_memory = false;
  bool keep = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::uint64_t x = 0;
    if (arg == "--help" || arg == "-h") {
      std::cout << usage;
      return 0;
    }
    if (arg == "--memory" || arg == "--keep") {
      (arg == "--memory" ? in_memory : keep) = true;
      continue;
    }
    if (arg == "--data") {
      if (i + 1 >= argc) {
        std::cerr << "bus-demo: --data needs a directory\n" << usage;
        return 2;
      }
      data_dir = argv[++i];
      continue;
    }
    if (!number_arg(i, argc, argv, x)) {
      std::cerr << "bus-demo: bad or missing value for " << arg << "\n" << usage;
      return 2;
    }
    if (arg == "--events" && x > 0)
      stream.events = x;
    else if (arg == "--redeliveries" && x <= 100)
      stream.redelivery_percent = static_cast<unsigned>(x);
    else if (arg == "--batch" && x > 0)
      batch_size = x;
    else if (arg == "--fail-at") {
      fail_at = x;
      fail_at_given = true;
    } else {
      std::cerr << "bus-demo: bad option " << arg << "\n" << usage;
      return 2;
    }
  }
  auto config = bus::parse_config(bus::default_config_text());
  if (!config) {
    std::cerr << "bus-demo: " << bus::context_of(config.error()) << "\n";
    return 1;
  }
  // The shipped models (user_listing, user_by_email), one more declarative
  // model, and one written in C++.
  auto specs = config->read_models;
  bus::document_model_config orders;
  orders.name = "order_status";
  orders.key = "order_id";
  orders.upsert_on = {"OrderPlaced"};
  orders.merge_on = {"OrderShipped", "OrderCancelled"};
  specs.push_back({orders.name, [orders] {
                     return std::make_unique<bus::document_model>(orders);
                   }});
  auto events = demo::make_stream(stream);
  if (!fail_at_given)
    fail_at = events.size() * 6 / 20; // about half of order_totals' events
  auto fail_once = std::make_shared<std::atomic<bool>>(fail_at > 0);
  specs.push_back({"order_totals", [fail_at, fail_once] {
                     return std::make_unique<demo::order_totals>(fail_at, fail_once);
                   }});
  // The demo shows supervision: its ledger failure stops the model, which
  // the supervisor restarts (rather than retrying and parking the event).
  specs.back().recovery.attempts = 1;
  specs.back().recovery.then = bus::on_poison::stop;

  std::shared_ptr<bus::event_log> log;
  projector_options projection;
  std::string where = "an in-memory bus";
  if (in_memory) {
    log = std::make_shared<bus::memory_log>();
  } else {
    auto store = data_dir / "demo.db";
    std::error_code ec;
    std::filesystem::create_directories(data_dir, ec);
    if (!keep) // a fresh store per run: the demo's own files only
      for (auto suffix : {"", "-wal", "-shm", ".snapshots", ".snapshots-wal",
                          ".snapshots-shm", ".models", ".models-wal", ".models-shm"})
        std::filesystem::remove(store.string() + suffix, ec);
    auto opened = bus::sqlite_log::open(store.string());
    if (!opened) {
      std::cerr << "bus-demo: " << bus::context_of(opened.error())
                << " (choose another place with --data DIR, or --memory)\n";
      return 2;
    }
    where = "a bus on the store " + std::filesystem::absolute(store).string() + " ("
            + (keep ? "reopened: " + with_commas((*opened)->head()) + " events"
                    : std::string{"fresh"})
            + ", durability " + bus::to_string((*opened)->policy()) + ")";
    log = std::move(*opened);
    projection.snapshot_path = store.string() + ".snapshots";
    projection.snapshot_every = config->node.snapshot_every;
  }

  caf::actor_system_config cfg;
  bus::init(cfg);
  bus::one_worker_per_core(cfg);
  caf::actor_system sys{cfg};
  auto bus = sys.spawn(bus_impl, log, bus_options{});
  auto sup = sys.spawn(supervisor_impl, bus, specs, config->supervision, projection);
  caf::scoped_actor self{sys};
  // The log belongs to the bus actor from here: ask it, never read it.
  auto bus_head = [&] {
    std::uint64_t head = 0;
    self->request(bus, caf::infinite, head_atom::value)
      .receive([&](std::uint64_t h) { head = h; }, [](caf::error&) {});
    return head;
  };

  std::cout << "bus-demo: " << specs.size() << " read models on " << where
            << " (embedded default config)\n";
  auto start = clock_type::now();
  std::uint64_t appended = 0, duplicates = 0, batches = 0;
  std::uint64_t redelivered_from = 0, redelivered = 0;
  for (std::size_t i = 0; i < events.size(); i += batch_size) {
    if (redelivered_from == 0 && i >= events.size() * 3 / 4) {
      // At three quarters, the bus pushes its last 5,000 events again, as a
      // transport would after a lost acknowledgement: every projector must
      // skip what it already applied. (Events published afterwards make
      // sure the re-pushes are processed before the final counts.)
      auto head = bus_head();
      redelivered_from = head > 5000 ? head - 4999 : 1;
      self->request(bus, caf::infinite, redeliver_atom::value, redelivered_from)
        .receive([&](std::uint64_t n) { redelivered = n; }, [](caf::error&) {});
    }
    auto end = std::min(events.size(), i + batch_size);
    std::vector<bus::event> batch(events.begin() + i, events.begin() + end);
    self->request(bus, caf::infinite, publish_atom::value, std::move(batch), false)
      .receive(
        [&](publish_ack& ack) {
          for (auto& o : ack.outcomes)
            ++(o.duplicate ? duplicates : appended);
        },
        [&](caf::error& err) {
          std::cerr << "bus-demo: publish failed: " << sys.render(err) << "\n";
        });
    ++batches;
  }
  auto published = clock_type::now();

  // Wait until every projector that is not down for good has caught up.
  std::vector<projector_status> status;
  auto head = bus_head();
  auto deadline = clock_type::now() + std::chrono::seconds{60};
  while (true) {
    self->request(sup, caf::infinite, status_atom::value)
      .receive([&](std::vector<projector_status>& xs) { status = std::move(xs); },
               [&](caf::error&) { status.clear(); });
    bool done = !status.empty();
    for (auto& s : status)
      done = done && (s.state == model_state::failed
                      || (s.state == model_state::running && s.checkpoint == head));
    if (done || clock_type::now() > deadline)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  }
  auto caught_up = clock_type::now();
  auto ms = [](auto d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  };

  std::cout << "published   " << with_commas(events.size()) << " events in "
            << batches << " batches: " << with_commas(appended)
            << " appended (seq 1.." << with_commas(head) << "), "
            << with_commas(duplicates) << " redeliveries rejected as duplicates\n";
  if (redelivered > 0)
    std::cout << "redelivery  the bus pushed seq " << with_commas(redelivered_from)
              << ".." << with_commas(redelivered_from + redelivered - 1)
              << " again to every projector; each skipped what it had applied\n";
  for (auto& s : status) {
    std::printf("projector   %-14s applied %9s  skipped %s  state %s  checkpoint %s\n",
                s.model.c_str(), with_commas(s.applied).c_str(),
                with_commas(s.skipped).c_str(), to_string(s.state),
                with_commas(s.checkpoint).c_str());
  }
  for (auto& s : status) {
    if (s.restarts == 0)
      continue;
    std::cout << "failure     " << s.last_error << "\n";
    std::cout << "restart     " << s.model << " restarted " << s.restarts
              << " time(s) after a " << config->supervision.initial_backoff.count()
              << " ms backoff; the new projector replayed "
              << with_commas(s.replayed)
              << " of its events from the log, then ran live\n";
  }
  // Sample queries: keys taken from the read models' own answers, so that
  // they show live data rather than misses.
  auto show = [&](const std::string& model,
                  const std::string& key) -> boost::json::value {
    boost::json::value result;
    self->request(sup, caf::infinite, query_atom::value, model, key)
      .receive(
        [&](query_result& r) {
          std::cout << "query       " << model << "[\"" << key << "\"] = "
                    << boost::json::serialize(r.value) << "\n";
          result = std::move(r.value);
        },
        [&](caf::error& err) {
          std::cout << "query       " << model << "[\"" << key << "\"]: "
                    << bus::context_of(err) << "\n";
        });
    return result;
  };
  auto user = show("user_listing", "user-42");
  if (auto* email = user.is_object() ? user.get_object().if_contains("email") : nullptr)
    show("user_by_email", std::string{email->as_string()});
  for (auto i = events.rbegin(); i != events.rend(); ++i) {
    if (i->type == "OrderPlaced") {
      show("order_status", std::string{i->payload.at("order_id").as_string()});
      break;
    }
  }
  show("order_totals", "user-42");

  // The restarted model must equal a fold of the whole log by a fresh one.
  demo::order_totals fresh{0, nullptr};
  for (std::uint64_t next = 1; next <= head;) {
    bus::event_batch batch;
    self->request(bus, caf::infinite, replay_atom::value, next, std::uint32_t{4096})
      .receive([&](bus::event_batch& b) { batch = std::move(b); }, [](caf::error&) {});
    if (batch.empty())
      break;
    for (auto& e : batch)
      if (fresh.handles(e.type))
        fresh.apply(e);
    next = batch.last_seq() + 1;
  }
  self->request(sup, caf::infinite, snapshot_atom::value, std::string{"order_totals"})
    .receive(
      [&](model_snapshot& snap) {
        std::cout << "check       order_totals "
                  << (snap.state == fresh.snapshot() ? "equals" : "DIFFERS FROM")
                  << " a fresh fold of the log\n";
      },
      [&](caf::error& err) {
        std::cout << "check       order_totals: " << bus::context_of(err) << "\n";
      });
  auto total = ms(caught_up - start);
  std::cout << "time        published in " << ms(published - start)
            << " ms, all read models caught up after " << total << " ms ("
            << with_commas(total > 0 ? events.size() * 1000 / total : 0)
            << " events/s)\n";
  self->send_exit(sup, caf::exit_reason::user_shutdown);
  self->send_exit(bus, caf::exit_reason::user_shutdown);
  return 0;
}
