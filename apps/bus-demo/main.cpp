// bus-demo: the framework on its embedded default, end to end. It publishes
// a generated stream of a small shop (users and orders, with redeliveries)
// to a bus on a durable store (bus-demo-data/demo.db by default), lets four projectors
// build their read models while one of them fails once midway, and reports
// what happened.

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

#include <boost/json/serialize.hpp>
#include <caf/all.hpp>

#include "bus/actors/bus_actor.hpp"
#include "bus/actors/init.hpp"
#include "bus/actors/supervisor.hpp"
#include "bus/config.hpp"
#include "bus/document_model.hpp"
#include "bus/errc.hpp"
#include "bus/log.hpp"
#include "bus/memory_log.hpp"
#include "bus/sqlite_log.hpp"
#include "catch_up.hpp"
#include "command_line.hpp"
#include "file_size_limit.hpp"
#include "order_totals.hpp"
#include "stream.hpp"

using namespace bus::actors;
using namespace bus::app;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr const char* summary
  = "bus-demo: the framework on its embedded default, end to end: a generated "
    "shop stream published to a bus with four read models, one of which fails "
    "once midway; prints what happened on stdout, logs on stderr.";

constexpr const char* details
  = R"(Publishes N generated events (default 200000; PERCENT redelivered, default
10) in batches of --batch-size (default 1024) to a bus with four read
models; order_totals fails once on its event number --fail-at (default:
half of its events; 0: never). The log lives in the SQLite store PATH
(default ./bus-demo-data/demo.db), started afresh on every run unless
--keep is given: then the previous run's store is reopened, the read models
come back from it (with progress on stderr while that takes long), and the
same stream is answered as redeliveries. --memory keeps the log in memory
instead. The old spellings --batch N and --data DIR (the store DIR/demo.db)
still work.
)";

} // namespace

int main(int argc, char** argv) {
  bus::app::fail_writes_past_file_size_limit();
  demo::stream_options stream;
  std::uint64_t batch_size = 1024;
  std::uint64_t fail_at = 0;
  std::filesystem::path store = "bus-demo-data/demo.db";
  bool in_memory = false;
  bool keep = false;
  bus::app::command_line cli{"bus-demo", summary, details};
  auto& app = cli.app();
  using bus::app::count_in;
  app.add_option("--events", stream.events, "Events to publish (default 200000)")
    ->transform(count_in(1, 10'000'000))
    ->type_name("N");
  app
    .add_option("--redeliveries", stream.redelivery_percent,
                "Share of redeliveries, in percent (default 10)")
    ->transform(count_in(0, 100))
    ->type_name("PERCENT");
  app.add_option("--batch-size", batch_size, "Events per publish (default 1024)")
    ->transform(count_in(1, 1 << 20))
    ->type_name("N");
  app.add_option("--batch", batch_size)->transform(count_in(1, 1 << 20))->group("");
  auto* fail_at_opt = app
                        .add_option(
                          "--fail-at", fail_at,
                          "order_totals fails once on its event number N (default: "
                          "half of its events; 0: never)")
                        ->transform(count_in(0, UINT64_MAX))
                        ->type_name("N");
  auto* store_opt = app
                      .add_option("--store", store,
                                  "The SQLite store of the log (default: "
                                  "./bus-demo-data/demo.db)")
                      ->type_name("PATH");
  auto* data_opt = app
                     .add_option_function<std::string>(
                       "--data",
                       [&](const std::string& dir) {
                         store = std::filesystem::path{dir} / "demo.db";
                       })
                     ->group("");
  app.add_flag("--memory", in_memory, "Keep the log in memory instead");
  app.add_flag("--keep", keep,
               "Reopen the previous run's store instead of starting afresh");
  cli.add_logging();
  if (auto status = cli.parse(argc, argv))
    return *status;
  if (in_memory && (*store_opt || *data_opt))
    return cli.usage_error("--memory keeps the log in memory: it takes no --store");
  auto config = bus::parse_config(bus::default_config_text());
  if (!config) {
    BUS_LOG(bus::log_level::error, "bus-demo", bus::context_of(config.error()));
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
  specs.push_back(
    {orders.name, [orders] { return std::make_unique<bus::document_model>(orders); }});
  auto events = demo::make_stream(stream);
  if (!*fail_at_opt)
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
  bool reopened = false;
  if (in_memory) {
    log = std::make_shared<bus::memory_log>();
  } else {
    std::error_code ec;
    if (store.has_parent_path())
      std::filesystem::create_directories(store.parent_path(), ec);
    if (!keep) // a fresh store per run: the demo's own files only
      for (auto suffix : {"", "-wal", "-shm", ".snapshots", ".snapshots-wal",
                          ".snapshots-shm", ".models", ".models-wal", ".models-shm"})
        std::filesystem::remove(store.string() + suffix, ec);
    // --keep on a first run has nothing to reopen: the store starts fresh.
    reopened = keep && std::filesystem::exists(store, ec);
    auto opened = bus::sqlite_log::open(store.string());
    if (!opened) {
      BUS_LOG(bus::log_level::error, "bus-demo",
              bus::context_of(opened.error())
                << " (choose another place with --store PATH, or --memory)");
      return 2;
    }
    where = "a bus on the store " + std::filesystem::absolute(store).string() + " ("
            + (reopened ? "reopened: " + with_commas((*opened)->head()) + " events"
               : keep   ? std::string{"fresh: no previous run's store to reopen"}
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
  auto bus = spawn_bus(sys, log, bus_options{});
  auto sup = spawn_supervisor(sys, bus, specs, config->supervision, projection);
  caf::scoped_actor self{sys};
  // The log belongs to the bus actor from here: ask it, never read it.
  auto bus_head = [&] {
    std::uint64_t head = 0;
    self->request(bus, caf::infinite, head_atom::value)
      .receive([&](std::uint64_t h) { head = h; }, [](caf::error&) {});
    return head;
  };

  auto ms = [](auto d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  };

  std::cout << "bus-demo: " << specs.size() << " read models on " << where
            << " (embedded default config)" << std::endl;
  if (reopened) {
    // The read models come back from the reopened store (their snapshots
    // plus the log's tail) before the stream is published again.
    auto t0 = clock_type::now();
    catch_up_options rebuild;
    rebuild.source = "bus-demo";
    rebuild.patience = std::chrono::seconds{60};
    auto back = wait_for_catch_up(self, sup, bus, rebuild);
    std::cout << "rebuild     the read models came back from the store (seq 1.."
              << with_commas(back.head) << ") in " << ms(clock_type::now() - t0)
              << " ms\n";
  }
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
    std::vector<bus::event> batch(events.begin() + static_cast<std::ptrdiff_t>(i),
                                  events.begin() + static_cast<std::ptrdiff_t>(end));
    self
      ->request(bus, caf::infinite, publish_atom::value, std::move(batch),
                publish_wait::log)
      .receive(
        [&](publish_ack& ack) {
          for (auto& o : ack.outcomes)
            ++(o.duplicate ? duplicates : appended);
        },
        [&](caf::error& err) {
          BUS_LOG(bus::log_level::error, "bus-demo",
                  "publish failed: " << sys.render(err));
        });
    ++batches;
  }
  auto published = clock_type::now();

  // Wait until every projector that is not down for good has caught up.
  catch_up_options final_wait;
  final_wait.goal = catch_up_goal::head;
  final_wait.source = "bus-demo";
  final_wait.patience = std::chrono::seconds{60};
  auto last = wait_for_catch_up(self, sup, bus, final_wait);
  if (last.outcome != catch_up_outcome::caught_up)
    BUS_LOG(bus::log_level::warning, "bus-demo",
            "the read models made no progress for 60 s: "
              << describe_progress(last.models, last.head, 0));
  auto& status = last.models;
  auto head = last.head;
  auto caught_up = clock_type::now();

  std::cout << "published   " << with_commas(events.size()) << " events in " << batches
            << " batches: " << with_commas(appended) << " appended (seq 1.."
            << with_commas(head) << "), " << with_commas(duplicates)
            << " redeliveries rejected as duplicates\n";
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
              << " ms backoff; the new projector replayed " << with_commas(s.replayed)
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
          std::cout << "query       " << model << "[\"" << key
                    << "\"] = " << boost::json::serialize(r.value) << "\n";
          result = std::move(r.value);
        },
        [&](caf::error& err) {
          std::cout << "query       " << model << "[\"" << key
                    << "\"]: " << bus::context_of(err) << "\n";
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
            << with_commas(
                 total > 0 ? events.size() * 1000 / static_cast<std::size_t>(total) : 0)
            << " events/s)\n";
  self->send_exit(sup, caf::exit_reason::user_shutdown);
  self->send_exit(bus, caf::exit_reason::user_shutdown);
  return 0;
}
