// bus-node: the event bus as a JSON-lines node (protocol of seed 000).
// One request per line on stdin, one reply per line on stdout; logs go to
// stderr. At end of input it finishes every reply and exits 0.
// Options: see `summary` and `details` below, and docs/protocol.md.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <unistd.h>
#include <utility>
#include <vector>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/publish.hpp>

#include "bus/actors/bus_actor.hpp"
#include "bus/actors/command_handler.hpp"
#include "bus/actors/init.hpp"
#include "bus/actors/supervisor.hpp"
#include "bus/admin/server.hpp"
#include "bus/config.hpp"
#include "bus/endpoint.hpp"
#include "bus/errc.hpp"
#include "bus/log.hpp"
#include "bus/memory_log.hpp"
#include "bus/store_files.hpp"
#include "bus/sqlite_log.hpp"
#include "bus/store_location.hpp"
#ifdef BUS_HAS_POSTGRESQL
#  include "bus/postgres_log.hpp"
#  include "leadership.hpp"
#endif
#include "await_models.hpp"
#include "catch_up.hpp"
#include "config_upcasters.hpp"
#include "command_line.hpp"
#include "file_size_limit.hpp"
#include "glibc_heap.hpp"
#include "request_reader.hpp"
#include "network_exposure.hpp"
#include "node_aggregates.hpp"
#include "session.hpp"
#include "tls_files.hpp"

namespace {

constexpr const char* summary
  = "bus-node: the event bus as a JSON-lines node. Reads protocol requests "
    "(JSON, one per line) on stdin and writes replies on stdout; logs go to "
    "stderr. At the end of its input it finishes every reply and exits 0.";

constexpr const char* details
  = R"(Without --config it runs the embedded default configuration
(config/node.json: read models user_listing and user_by_email). Without
--store the log lives in memory; with it, in the SQLite file PATH, and a
restart on the same file rebuilds the read models from it. A PATH that is
a PostgreSQL URI (postgresql://... or postgres://...) keeps the log in that
database instead (docs/operations.md), and the read models' snapshots in
its tables bus_snapshot* (a restart replays only the tail), models with
"storage": "sqlite" in tables of the same database (bus_model_*),
committed with their checkpoint before their batches are acknowledged,
and the pauses in
bus_paused_models. Bus
nodes on one PostgreSQL log take turns: one leads (a lease renewed every
third of --lease-ms, default 5000), the others stand by without listening
or reading input until they take the lease over (docs/distributed.md,
"Standby bus nodes and failover"). Before it reads
its input it waits for every read model to catch up with the log, logging
progress about once a second, and gives up (exit 1) when none moved for
--startup-timeout seconds. --durability fsync (default) syncs every batch
to disk before acknowledging it; os leaves that to the OS (survives a crash
of the node, not a power loss); interval:N syncs the batches of N
milliseconds together (1 to 60000), acknowledging each after the sync that
covers it. With a store, read models are snapshotted every --snapshot-every
events (default from the config: 10000; 0: never), and a restart replays
only the tail. Read models configured with "storage": "sqlite" live in
tables of PATH.models instead, committed with their checkpoint before
their batches are acknowledged (one transaction for the batches that
queued up meanwhile); without --store they stay in memory. --listen publishes the bus at
HOST:PORT (port 0 picks a free one; the port is reported on stderr) for
projector nodes (bus-projector --connect): they take events like local
models, and queries, status and updated_models cover their models too. With
--tls-cert, --tls-key and --tls-ca the bus protocol runs over mutual TLS:
only nodes whose certificate the CA signed can connect, and nothing crosses
the network in plaintext. Without them it has no authentication or
encryption, so anyone who reaches the port can read and publish every
event: HOST must then be a loopback address, unless --allow-remote and
--insecure are both given. An address that is not loopback always needs
--allow-remote. Requests to other nodes fail after --timeout-ms (default
5000) with an error naming the model.
--peer-role says what the nodes that connect may do: projector (the
default) lets them subscribe, replay, attach and serve read models;
publisher also lets them publish; unrestricted also lets them send
lifecycle requests (pause, rebuild, ...) to this node. Requests beyond the
role are refused with the error "forbidden" and logged.
--await-models holds the input until the named read models run, or are
paused (on this node or on projector nodes that attached), for a multi-node
start.
--admin serves the admin endpoint over HTTP at HOST:PORT (status, health,
metrics, the log, lifecycle and parked events; docs/admin-api.md), in plain
HTTP: loopback only unless --allow-remote and --insecure are given; port 0
picks a free one, reported on stderr.
An option that applies to another one is refused without it: --durability
and --snapshot-every without --store, --lease-ms without a PostgreSQL
--store, --timeout-ms and --peer-role without --listen, --allow-remote
without --listen or --admin, --insecure without --allow-remote; so is an
empty value, and without --listen an awaited model the configuration lacks.
With TLS, a certificate that expired or is not valid yet, or a CA file with
no certificate valid now, is refused at start, named.
Exit status: 0 at the end of the input, 1 when the read models did not
start, 2 for a bad option, configuration or store, 3 when another bus node
took the lead of its PostgreSQL log (it answers every request after that
with an error).
)";

// Keeps at most this many chunks between the reader and the session, so
// that a fast producer cannot grow the session's mailbox without bound.
// A store's log fans an event out only once its group commit is done: with
// 4 chunks (some 20,000 of bus-gen's events) the read models waited for
// each commit, with 8 the commits overlap their work (docs/benchmarks.md,
// "Windows for group commits"). A memory log gains nothing from more.
constexpr int max_chunks_in_flight = 4;
constexpr int max_chunks_in_flight_stored = 8;

#ifdef BUS_HAS_POSTGRESQL
// How the other bus nodes of a shared log name this one while it leads:
// where projector nodes reach it, and its process.
std::string lease_holder(const bus::endpoint* listen_at) {
  char host[256] = "";
  ::gethostname(host, sizeof(host) - 1);
  std::string result;
  if (listen_at != nullptr)
    result = listen_at->host + ":" + std::to_string(listen_at->port) + ", ";
  return result + "pid " + std::to_string(::getpid()) + " on " + host;
}
#endif

} // namespace

int main(int argc, char** argv) {
  // Chunks of requests are megabytes each (see glibc_heap.hpp).
  bus::app::keep_freed_memory_in_heap();
  bus::app::fail_writes_past_file_size_limit();
  std::string config_path;
  std::string store_path;
  bus::durability policy = bus::durability::fsync_each_batch;
  std::size_t max_line = 0;
  std::size_t batch_size = 0;
  std::size_t snapshot_every = 0;
  bus::endpoint listen_at;
  bool listening = false;
  bool allow_remote = false;
  bool insecure = false;
  bus::app::tls_files tls;
  auto peers = bus::actors::peer_role::projector;
  std::size_t timeout_ms = 5000;
  std::size_t startup_timeout_s = 30;
  std::size_t lease_ms = 5000;
  std::vector<std::string> await_names;
  bus::endpoint admin_at;
  bool serving_admin = false;
  auto parse_role =
    [](const std::string& text) -> caf::expected<bus::actors::peer_role> {
    if (auto role = bus::actors::parse_peer_role(text))
      return *role;
    return bus::make_error(bus::errc::invalid_config,
                           "takes projector, publisher or unrestricted, not '" + text
                             + "'");
  };
  bus::app::command_line cli{"bus-node", summary, details};
  auto& app = cli.app();
  using bus::app::count_in;
  app
    .add_option("--config", config_path,
                "Read models, supervision and node limits (default: the "
                "embedded config/node.json)")
    ->check(bus::app::not_empty("FILE"))
    ->type_name("FILE");
  app
    .add_option("--store", store_path,
                "Keep the log in the SQLite file PATH, created if missing, or "
                "in the PostgreSQL database of a postgresql:// URI (default: "
                "in memory)")
    ->check(bus::app::not_empty("PATH"))
    ->type_name("PATH");
  bus::app::add_parsed(app, "--durability", policy, bus::parse_durability,
                       "With --store: fsync (default), os or interval:N "
                       "(N: 1 to 60000 ms, group commit)")
    ->type_name("POLICY");
  auto* snapshot_opt = app
                         .add_option(
                           "--snapshot-every", snapshot_every,
                           "With --store: snapshot each read model every N events "
                           "(default: node.snapshot_every, 10000; 0: never)")
                         ->transform(count_in(0, UINT64_MAX))
                         ->type_name("N");
  app
    .add_option("--max-line-bytes", max_line,
                "Skip longer input lines (default: node.max_line_bytes, "
                "1048576)")
    ->transform(count_in(1, 1 << 30))
    ->type_name("N");
  app
    .add_option("--batch-size", batch_size,
                "Events per publish batch (default: node.batch_size, 1024)")
    ->transform(count_in(1, 1 << 20))
    ->type_name("N");
  app
    .add_option("--lease-ms", lease_ms,
                "With a PostgreSQL store: the lease of the leading bus node "
                "lasts N ms past its last renewal (default 5000)")
    ->transform(count_in(100, 600'000))
    ->type_name("N");
  bus::app::add_parsed(app, "--listen", listen_at, bus::parse_endpoint,
                       "Publish the bus for projector nodes at HOST:PORT "
                       "(port 0: a free one, reported on stderr)",
                       [&] { listening = true; })
    ->type_name("HOST:PORT");
  app.add_flag("--allow-remote", allow_remote,
               "Let --listen and --admin take an address that is not loopback");
  bus::app::add_tls_options(app, tls,
                            "for --listen: the bus protocol runs over "
                            "mutual TLS");
  bus::app::add_parsed(app, "--peer-role", peers, parse_role,
                       "With --listen: what other nodes may do: projector "
                       "(default: subscribe, replay, attach and serve models), "
                       "publisher (also publish) or unrestricted (also "
                       "lifecycle requests)")
    ->type_name("projector|publisher|unrestricted");
  app.add_flag("--insecure", insecure,
               "With --allow-remote: let --listen without TLS, and --admin "
               "(plain HTTP), take an address that is not loopback");
  app
    .add_option("--timeout-ms", timeout_ms,
                "With --listen: requests to other nodes fail after N ms "
                "(default 5000)")
    ->transform(count_in(1, 86'400'000))
    ->type_name("N");
  app
    .add_option("--startup-timeout", startup_timeout_s,
                "Exit 1 when the read models catching up at start make no "
                "progress for this long (default 30; 0: no limit)")
    ->transform(count_in(0, 31'536'000))
    ->type_name("SECONDS");
  app
    .add_option("--await-models", await_names,
                "Read no input until these read models (here or on "
                "projector nodes) run; gives up like --startup-timeout")
    ->delimiter(',')
    ->check(bus::app::not_empty("NAME"))
    ->type_name("NAME,...");
  bus::app::add_parsed(app, "--admin", admin_at, bus::parse_endpoint,
                       "Serve the admin endpoint over HTTP at HOST:PORT "
                       "(port 0: a free one, reported on stderr)",
                       [&] { serving_admin = true; })
    ->type_name("HOST:PORT");
  auto idle = bus::idle_workers::wake;
  bus::app::add_idle_workers(app, idle);
  cli.add_logging();
  if (auto status = cli.parse(argc, argv))
    return *status;
  // Options that apply only beside another one: alone they would change
  // nothing, and say nothing about it.
  const std::pair<const char*, std::vector<std::string>> companions[] = {
    {"--durability", {"--store"}},
    {"--snapshot-every", {"--store"}},
    {"--timeout-ms", {"--listen"}},
    {"--peer-role", {"--listen"}},
    {"--allow-remote", {"--listen", "--admin"}},
    {"--insecure", {"--allow-remote"}}};
  for (auto& [option, with] : companions)
    if (auto status = cli.needs(option, with))
      return *status;
  if (app.count("--lease-ms") > 0 && !bus::is_postgres_uri(store_path))
    return cli.usage_error(
      std::string{"--lease-ms applies to a PostgreSQL store (--store "
                  "postgresql://...), whose bus nodes take turns by lease; "}
      + (store_path.empty() ? "without --store the log lives in memory"
                            : "a SQLite store is one node's, held by its lock"));
  if (serving_admin)
    if (auto err = bus::admin::check_endpoint(admin_at, allow_remote))
      return cli.usage_error("--admin " + bus::context_of(err));
  bus::app::network_exposure exposure;
  exposure.listen = listening ? &listen_at : nullptr;
  exposure.admin = serving_admin ? &admin_at : nullptr;
  exposure.allow_remote = allow_remote;
  exposure.insecure = insecure;
  if (auto status = bus::app::check_exposure(cli, tls, exposure))
    return *status;
  auto config = config_path.empty() ? bus::parse_config(bus::default_config_text())
                                    : bus::load_config(config_path);
  if (!config) {
    BUS_LOG(bus::log_level::error, "bus-node",
            "bad configuration: " << bus::context_of(config.error()));
    return 2;
  }
  if (max_line > 0)
    config->node.max_line_bytes = max_line;
  if (batch_size > 0)
    config->node.batch_size = batch_size;
  if (*snapshot_opt)
    config->node.snapshot_every = snapshot_every;
  // Only projector nodes bring models the configuration lacks, and only
  // to a node that listens: such a name would be awaited in vain.
  if (!listening)
    for (auto& name : await_names)
      if (std::none_of(config->read_models.begin(), config->read_models.end(),
                       [&](const bus::model_spec& spec) { return spec.name == name; }))
        return cli.usage_error("--await-models " + name
                               + ": no read model of the configuration has this "
                                 "name, and without --listen no projector node "
                                 "can attach one");

  std::optional<bus::stream_store> streams;
  if (!config->commands.aggregates.empty()) {
    auto types = bus::node::node_aggregates(config->commands);
    auto made = types ? bus::stream_store::make(std::move(*types),
                                                config->commands.snapshot_every)
                      : caf::expected<bus::stream_store>{types.error()};
    if (!made) {
      BUS_LOG(bus::log_level::error, "bus-node",
              "bad configuration: " << bus::context_of(made.error()));
      return 2;
    }
    streams.emplace(std::move(*made));
  }

  std::shared_ptr<bus::event_log> log;
#ifdef BUS_HAS_POSTGRESQL
  bus::node::led_log lead;
#endif
  // A URI names a database server; anything else is a SQLite file.
  auto on_server = bus::is_postgres_uri(store_path);
  if (store_path.empty()) {
    log = std::make_shared<bus::memory_log>();
  } else if (on_server) {
#ifdef BUS_HAS_POSTGRESQL
    // Stands by until this node leads the log.
    bus::lease_options leasing;
    leasing.holder = lease_holder(listening ? &listen_at : nullptr);
    leasing.ttl = std::chrono::milliseconds{lease_ms};
    auto led = bus::node::lead_log(store_path, policy, leasing);
    if (!led) {
      BUS_LOG(bus::log_level::error, "bus-node", bus::context_of(led.error()));
      return 2;
    }
    BUS_LOG(bus::log_level::info, "bus-node",
            "store " << led->log->name() << " holds " << led->log->head()
                     << " events (durability " << bus::to_string(policy) << ")");
    log = led->log;
    lead = std::move(*led);
#else
    BUS_LOG(bus::log_level::error, "bus-node",
            "--store: this bus-node was built without PostgreSQL (BUS_POSTGRESQL); "
            "give a SQLite file instead of a URI");
    return 2;
#endif
  } else {
    auto opened = bus::sqlite_log::open(store_path, policy);
    if (!opened) {
      BUS_LOG(bus::log_level::error, "bus-node", bus::context_of(opened.error()));
      return 2;
    }
    BUS_LOG(bus::log_level::info, "bus-node",
            "store " << store_path << " holds " << (*opened)->head()
                     << " events (durability " << bus::to_string(policy) << ")");
    log = std::move(*opened);
  }

  // stdout carries the protocol (written through stdio, never std::cout):
  // what CAF prints itself (an actor's unhandled exception, through aout
  // and std::cout) goes to stderr with the logs, not between two replies.
  std::cout.rdbuf(std::cerr.rdbuf());
  caf::actor_system_config cfg;
  bus::init(cfg);
  bus::one_worker_per_core(cfg, idle);
  if (listening)
    bus::enable_network(cfg);
  if (tls.any())
    if (auto err = bus::app::enable_tls(cfg, tls))
      return cli.usage_error(bus::context_of(err));
  caf::actor_system sys{cfg};
  using namespace bus::actors;
  auto timeout = std::chrono::milliseconds{timeout_ms};
  bus_options bus_opts;
  // The session's publishes, and a few more: it never waits for a refusal.
  // Under a sync interval, a group of two thirds of them is committed at
  // once (32 of the 48 at the default batch size): waiting for all would
  // stall the session until the interval ends.
  auto session_publishes = bus::node::publishes_in_flight_for(config->node.batch_size);
  bus_opts.max_publishes_in_flight = static_cast<std::uint32_t>(
    std::max<std::size_t>(bus_opts.max_publishes_in_flight, session_publishes + 16));
  bus_opts.sync_after_replies = static_cast<std::uint32_t>(
    std::max<std::size_t>(bus_opts.sync_after_replies, session_publishes * 2 / 3));
  if (listening) { // a delivery to a silent node must not hold a publish
    bus_opts.delivery_timeout = caf::duration{timeout * 6};
    bus_opts.peers = peers;
  }
  auto bus = spawn_bus(sys, log, bus_opts);
  // The command side, when the configuration names aggregates: it reads the
  // streams' versions from the log before it runs a command.
  command_handler_actor commands;
  if (streams) {
    command_handler_options handling;
    // A query after a command's answer sees its events.
    handling.wait = publish_wait::projectors;
    commands = spawn_command_handler(sys, bus, std::move(*streams), handling);
  }
  bus::node::session_options options;
  for (auto& spec : config->read_models)
    options.models.push_back(spec.name);
  // Awaited models of other nodes come next, in the order given: their
  // place in updated_models must not depend on which node attached first.
  for (auto& name : await_names)
    if (std::find(options.models.begin(), options.models.end(), name)
        == options.models.end())
      options.models.push_back(name);
  options.batch_size = config->node.batch_size;
  options.max_publishes_in_flight = session_publishes;
  options.commands = commands;
#ifdef BUS_HAS_POSTGRESQL
  if (lead.lease)
    options.lead = std::make_shared<std::atomic<std::int64_t>>(0);
#endif
  projector_options projection;
  // Counted by the projectors as they restore, read by the start-up's wait.
  projection.restores = std::make_shared<bus::restore_progress>();
  // The configuration's upcasters, shared by every projector.
  if (!bus::app::install_upcasters(*config, projection, "bus-node"))
    return 2;
  if (on_server) {
    // Snapshots in the log's database (tables bus_snapshot*): a restart,
    // or a standby taking the lead, replays only the tail. SQLite-stored
    // models keep their tables there too (bus_model_*), and pauses are
    // kept there: whichever node leads finds them.
    projection.snapshot_path = store_path;
    projection.snapshot_every = config->node.snapshot_every;
    projection.models_path = store_path;
    projection.lifecycle_path = store_path;
    BUS_LOG(bus::log_level::info, "bus-node",
            "store on PostgreSQL: read models are snapshotted in its database "
            "(tables bus_snapshot*) every "
              << config->node.snapshot_every
              << " events; \"storage\": \"sqlite\" models keep their tables "
                 "there (bus_model_*), and pauses are kept there");
  } else if (!store_path.empty()) {
    // Their own file: a snapshot being written never blocks log appends.
    projection.snapshot_path = store_path + ".snapshots";
    projection.snapshot_every = config->node.snapshot_every;
    // Models with "storage": "sqlite" keep their tables and checkpoints here.
    projection.models_path = store_path + ".models";
    // Pauses, so that they survive a restart of the node.
    projection.lifecycle_path = store_path + ".lifecycle";
    if (auto err = bus::check_store_files({projection.snapshot_path,
                                           projection.models_path,
                                           projection.lifecycle_path})) {
      BUS_LOG(bus::log_level::error, "bus-node", bus::context_of(err));
      return 2;
    }
  }
  auto sup = listening ? spawn_routing_supervisor(sys, bus, config->read_models,
                                                  config->supervision, projection,
                                                  remote_routing{timeout, peers})
                       : spawn_supervisor(sys, bus, config->read_models,
                                          config->supervision, projection);
  auto session = sys.spawn(bus::node::session_impl, bus, sup, options);
  auto lost_lead = std::make_shared<std::atomic<bool>>(false);
#ifdef BUS_HAS_POSTGRESQL
  std::unique_ptr<bus::node::lease_keeper> keeper;
  std::shared_ptr<bus::node::lease_board> board;
  if (lead.lease) {
    bus::leadership seen;
    seen.lease = lead.lease->options().name;
    seen.holder = lead.lease->options().holder;
    seen.token = lead.lease->token();
    seen.ttl = lead.lease->options().ttl;
    seen.why = "took the lease (token " + std::to_string(seen.token) + ")";
    board = std::make_shared<bus::node::lease_board>(std::move(seen));
    using bus::node::lead_state;
    auto on_change = [session, bus, lost_lead, board](lead_state state,
                                                      const std::string& why) {
      board->set(state, why);
      switch (state) {
        case lead_state::leading:
          BUS_LOG(bus::log_level::info, "bus-node", "leading again: " << why);
          break;
        case lead_state::unsure:
          BUS_LOG(bus::log_level::warning, "bus-node",
                  "refusing requests until the lease is renewed: " << why);
          break;
        case lead_state::lost:
          BUS_LOG(bus::log_level::error, "bus-node",
                  "this bus node no longer leads the log: "
                    << why << "; stopping its bus and refusing every request");
          *lost_lead = true;
          caf::anon_send(session, bus::node::lost_lead_atom::value, why);
          // Its projector nodes see the bus go down and dial the leader.
          caf::anon_send_exit(bus, caf::exit_reason::user_shutdown);
          break;
      }
    };
    keeper = std::make_unique<bus::node::lease_keeper>(
      std::move(lead.lease), lead.taken_at, options.lead, on_change);
  }
#endif

  caf::scoped_actor self{sys};
  auto stop = [&] {
    self->send_exit(session, caf::exit_reason::user_shutdown);
    self->send_exit(sup, caf::exit_reason::user_shutdown);
    self->send_exit(bus, caf::exit_reason::user_shutdown);
    if (commands)
      self->send_exit(commands, caf::exit_reason::user_shutdown);
  };
  if (listening) {
    auto host = listen_at.host.c_str();
    auto port = tls.any() ? caf::openssl::publish(bus, listen_at.port, host, true)
                          : sys.middleman().publish(bus, listen_at.port, host, true);
    if (!port) {
      BUS_LOG(bus::log_level::error, "bus-node",
              "cannot listen on " << listen_at.host << ":" << listen_at.port << ": "
                                  << sys.render(port.error()));
      stop();
      return 2;
    }
    BUS_LOG(bus::log_level::info, "bus-node",
            (tls.any() ? "the bus protocol runs over mutual TLS (CA " + tls.ca + ")"
                       : std::string{"the bus protocol runs without TLS"}));
    BUS_LOG(bus::log_level::info, "bus-node",
            "listening on " << listen_at.host << ":" << *port);
  }
  std::unique_ptr<bus::admin::server> admin;
  if (serving_admin) {
    using bus::admin::admin_options;
    auto admin_opts = admin_options::of_bus_node(admin_at, bus, sup);
#ifdef BUS_HAS_POSTGRESQL
    if (board)
      admin_opts.lease = [board] { return std::optional{board->get()}; };
#endif
    auto served = bus::admin::serve(sys, std::move(admin_opts));
    if (!served) {
      BUS_LOG(bus::log_level::error, "bus-node", bus::context_of(served.error()));
      stop();
      return 2;
    }
    admin = std::move(*served);
    BUS_LOG(bus::log_level::info, "bus-node", "admin endpoint on " << admin->url());
  }
  // Read nothing before every projector is registered with the bus and
  // caught up: an event published earlier would reach no read model in time
  // for its reply.
  // With a store, this is where the read models are rebuilt from it.
  bus::app::catch_up_options catch_up;
  catch_up.patience = std::chrono::seconds{startup_timeout_s};
  catch_up.source = "bus-node";
  catch_up.restores = projection.restores;
  auto started = bus::app::wait_for_catch_up(self, sup, bus, catch_up);
  if (started.outcome != bus::app::catch_up_outcome::caught_up) {
    BUS_LOG(bus::log_level::error, "bus-node",
            "the read models made no progress for "
              << startup_timeout_s << " s while catching up (" << started.progress
              << "); giving up (--startup-timeout, 0: no limit)");
    stop();
    return 1;
  }
  if (!await_names.empty()) {
    auto awaited = bus::node::await_models(self, sup, await_names, catch_up.patience);
    if (awaited.outcome != bus::node::await_outcome::ready) {
      std::string missing;
      for (auto& name : awaited.missing)
        missing += (missing.empty() ? "" : ", ") + name;
      BUS_LOG(bus::log_level::error, "bus-node",
              "read models " << missing << " did not attach within "
                             << startup_timeout_s
                             << " s (--await-models, --startup-timeout)");
      stop();
      return 1;
    }
  }
  if (commands) {
    // Reading the log for the streams' versions: commands wait for it anyway,
    // this only says how many streams there are.
    self->request(commands, caf::infinite, bus::actors::ready_atom::value)
      .receive(
        [&](std::uint64_t known) {
          BUS_LOG(bus::log_level::info, "bus-node",
                  "the command side runs " << config->commands.aggregates.size()
                                           << " aggregate type(s) on " << known
                                           << " stream(s) from the log");
        },
        [&](caf::error& err) {
          BUS_LOG(bus::log_level::error, "bus-node",
                  "the command side did not start: " << sys.render(err));
        });
  }
  int in_flight = 0;
  auto max_in_flight = store_path.empty() ? max_chunks_in_flight
                                          : max_chunks_in_flight_stored;
  auto wait_one = [&] {
    self->receive([&](bus::node::chunk_done_atom) { --in_flight; });
  };
  bus::node::request_reader reader{0, config->node.max_line_bytes};
  bool more = true;
  while (more) {
    auto chunk = reader.read_chunk(more);
    if (chunk->empty())
      continue;
    if (in_flight >= max_in_flight)
      wait_one();
    self->send(session, bus::node::chunk_atom::value, std::move(chunk),
               caf::actor{self});
    ++in_flight;
  }
  while (in_flight > 0)
    wait_one();
  if (store_path.empty() && !listening) {
    // Every reply is written and nothing outlives the process: tearing down
    // an in-memory log and read models of millions of events would only
    // free memory, at the cost of a noticeable share of the run.
    std::fflush(stdout);
    std::_Exit(0);
  }
  stop();
  self->wait_for(session, sup, bus);
  if (commands)
    self->wait_for(commands);
  return *lost_lead ? 3 : 0;
}
