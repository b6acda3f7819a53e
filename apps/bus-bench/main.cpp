// bus-bench: throughput of the framework beside plain single-thread loops
// doing the same work in the same process. Not a test: it prints a table of
// medians over several runs (or one JSON document with --json). The machine
// is noisy; compare ratios, which come from the same run.

#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "command_line.hpp"
#include "glibc_heap.hpp"
#include "harness.hpp"
#include "local_scenarios.hpp"
#include "memory.hpp"
#include "node_scenario.hpp"
#include "partitions.hpp"
#include "growth.hpp"
#include "log_growth.hpp"
#include "remote.hpp"
#include "report.hpp"
#include "scratch_dir.hpp"
#include "snapshots.hpp"
#include "workload.hpp"

using namespace bench;

namespace {

constexpr const char* summary
  = "bus-bench: throughput of the framework beside plain single-thread loops "
    "doing the same work in the same process; prints a table of medians.";

constexpr const char* details
  = R"(Runs each scenario R times (default 3) on N events (default 1000000) in
batches of --batch-size (default 1024) and prints medians beside a plain
loop doing the same work. DIR (default: the system's temp dir) holds the
SQLite stores and the node scenario's input, in a directory of the run's
own (bus-bench-PID) removed at its end. --only runs just the named
scenarios: pipeline, recovery, append, rebuild, memory (what the whole
process grows by per event: a bus and 4 projectors on each log, from N
events to 4N; "dedup" is the same), latency (latency also runs the
pipeline, for its maximum rate), remote (a bus and two
projector nodes on loopback, and its latency), node (bus-node end to end on
an input from bus-gen over N/10 users, in memory and with --store, as child
processes), floor (the machine's noise floor alone: a thread sleeping
100 us in a loop, and what the first write to a fresh page of memory
costs; every latency row also measures both in the same run, and gives
its tail again without the first 100000 events, while the models' tables
still grow),
snapshots (the node's two read models on the memory log, on a store, and
on a store with snapshots every 10000 events), partitions (a model costing
a few us per event, whole and as 2 and 4 key-hash partitions), postgres
(appending to the PostgreSQL log of --pg-uri under each policy beside the
SQLite log; not run without --pg-uri, or in a build without PostgreSQL),
growth (N keys inserted into a read model's table, bus::growing_map beside
Boost's flat map, with the worst 256 inserts in a row of each), log_growth
(the memory log appending the N events in batches of 256, each timed,
beside a set of ids and a vector of events).
--json prints one JSON document with every figure instead of the table.
The old spellings --batch N and --dir DIR still work.
)";

} // namespace

int main(int argc, char** argv) {
  bus::app::keep_freed_memory_in_heap(); // as the apps run (glibc_heap.hpp)
  options opt;
  opt.node_binary = BUS_NODE_PATH;
  opt.gen_binary = BUS_GEN_PATH;
  opt.reference_node = BUS_REFERENCE_NODE_PATH;
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
  app
    .add_option("--store-dir", opt.store_dir,
                "Where the scenarios create their SQLite stores (default: "
                "the system's temp dir)")
    ->type_name("DIR");
  app.add_option("--dir", opt.store_dir)->group("");
  app.add_option("--only", opt.only, "Run just these scenarios (comma-separated)")
    ->delimiter(',')
    ->check(bus::app::one_of(scenarios))
    ->type_name("S[,S...]");
  app
    .add_option("--node", opt.node_binary,
                "The bus-node binary of the node scenario (default: this build's)")
    ->type_name("PATH");
  app
    .add_option("--gen", opt.gen_binary,
                "The bus-gen binary of the node scenario (default: this build's)")
    ->type_name("PATH");
  app
    .add_option("--reference-node", opt.reference_node,
                "The Python reference node the node scenario compares bus-node "
                "with (default: apps/bus-bench/reference_node.py; \"\": not run)")
    ->type_name("PATH");
  app
    .add_option("--pg-uri", opt.pg_uri,
                "The PostgreSQL database of the postgres scenario (its tables "
                "bus_events and bus_ids are dropped; default: not run)")
    ->type_name("URI");
  bus::app::add_idle_workers(app, opt.idle);
  app
    .add_option("--replay-ahead", opt.replay_ahead,
                "Replay requests a catching-up projector keeps under way in the "
                "recovery and rebuild scenarios (default 4)")
    ->transform(count_in(1, 64))
    ->type_name("N");
  app
    .add_option("--latency-rate", opt.latency_rate,
                "Run the latency and remote latency rows at this many events/s "
                "instead of at half (and a quarter) of the measured maximum")
    ->transform(count_in(1, 1000000000))
    ->type_name("EVENTS_PER_S");
  app.add_flag("--json", opt.json, "Print one JSON document with every figure");
  app.add_option("--label", opt.label, "A label for the JSON document (say, a commit)")
    ->type_name("TEXT");
  cli.add_logging();
  if (auto status = cli.parse(argc, argv))
    return *status;
  scratch_dir scratch{opt.store_dir};
  if (!scratch.error().empty()) {
    std::cerr << "bus-bench: " << scratch.error() << '\n';
    return 2;
  }
  opt.store_dir = scratch.path();
  use_idle_workers(opt.idle);
  report out{opt.json};
  out.header(opt.events, opt.batch_size, opt.runs, std::thread::hardware_concurrency(),
             bus::to_string(opt.idle), opt.label);
  auto events = make_events(opt.events);
  double max_rate = 0;
  if (opt.runs_scenario("pipeline")
      || (opt.runs_scenario("latency") && opt.latency_rate == 0))
    max_rate = pipeline(opt, events, out);
  if (opt.runs_scenario("recovery"))
    recovery(opt, events, out);
  if (opt.runs_scenario("append"))
    durable_append(opt, events, out);
  if (opt.runs_scenario("rebuild"))
    rebuild_from_store(opt, events, out);
  if (opt.runs_scenario("memory") || opt.runs_scenario("dedup"))
    memory_per_event(opt, out);
  // At half the pipeline's maximum, and at a quarter: the tail shows where
  // the awaited path (an acknowledgement per projector per batch) saturates.
  if (opt.runs_scenario("latency")) {
    if (opt.latency_rate > 0) {
      latency(events, static_cast<double>(opt.latency_rate), "latency_fixed", out);
    } else {
      latency(events, max_rate / 2, "latency_half", out);
      latency(events, max_rate / 4, "latency_quarter", out);
    }
  }
  if (opt.runs_scenario("remote")) {
    auto remote_max = remote_pipeline(opt, events, out);
    remote_latency(
      events,
      opt.latency_rate > 0 ? static_cast<double>(opt.latency_rate) : remote_max / 2,
      opt.latency_rate > 0 ? "remote_latency_fixed" : "remote_latency_half", out);
  }
  if (opt.runs_scenario("node"))
    node_end_to_end(opt, out);
  if (opt.runs_scenario("floor"))
    noise_floor_alone(out);
  if (opt.runs_scenario("snapshots"))
    snapshots(opt, out);
  if (opt.runs_scenario("partitions"))
    partitions(opt, events, out);
  if (opt.runs_scenario("postgres"))
    postgres_append(opt, events, out);
  if (opt.runs_scenario("growth"))
    growth(opt, out);
  if (opt.runs_scenario("log_growth"))
    log_growth(opt, events, out);
  out.finish();
  return 0;
}
