// bus-projector: a projector node. Runs the read models of its config,
// projected from a bus on another node (bus-node --listen), and keeps them
// attached to it across losses of either side. Logs go to stderr; it runs
// until SIGINT or SIGTERM.

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdint>
#include <optional>
#include <string>
#include <unistd.h>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/manager.hpp>

#include "bus/actors/connector.hpp"
#include "bus/actors/init.hpp"
#include "bus/actors/supervisor.hpp"
#include "bus/admin/server.hpp"
#include "bus/config.hpp"
#include "bus/endpoint.hpp"
#include "bus/errc.hpp"
#include "bus/log.hpp"
#include "bus/store_files.hpp"
#include "bus/store_location.hpp"
#include "command_line.hpp"
#include "config_upcasters.hpp"
#include "file_size_limit.hpp"
#include "glibc_heap.hpp"
#include "network_exposure.hpp"
#include "tls_files.hpp"

namespace {

constexpr const char* summary
  = "bus-projector: a projector node. Runs the read models of its config, "
    "projected from a bus on another node (bus-node --listen), until SIGINT "
    "or SIGTERM; logs go to stderr.";

// The longest --name: a line of a log, not a document.
constexpr std::size_t max_name_bytes = 256;

constexpr const char* details
  = R"(Connects to the bus published by `bus-node --listen HOST:PORT`, runs the
read models of FILE (default: the embedded config/node.json) and registers
them with the bus, which then fans events out to them and routes queries on
its node to them. When the bus is lost, it reconnects with backoff and every
model pulls what it missed from its checkpoint. NAME identifies the node in
the bus's directory (default: "projector:" and its model names). Given
several bus nodes of one log (PostgreSQL, where one leads and the others
stand by), it connects to whichever leads, and follows the lead when it
moves. With
--store, memory models are snapshotted to PATH.snapshots every N events
(default 10000) and "storage": "sqlite" models live in tables of
PATH.models, so a restarted node pulls only the events after them. One
node at a time: while it runs the node holds a lock on PATH.lock, and
another node started on PATH exits 2 at once, "the store is in use by
another process", as does one that cannot create files there (a missing
directory), before it dials the bus.
Requests to the bus time out after --timeout-ms (default 5000).
With --tls-cert, --tls-key and --tls-ca it connects over mutual TLS (the
bus must listen with TLS, and its certificate be signed by the CA); a bus
that is not on a loopback address needs them, or --insecure.
--admin serves this node's admin endpoint over plain HTTP at HOST:PORT
(status, health and metrics of its models, their lifecycle and parked
events; docs/admin-api.md); HOST must be a loopback address unless
--allow-remote and --insecure are given. Port 0 picks a free one, reported
on stderr.
--snapshot-every needs --store, and --allow-remote needs --admin; an empty
--config, --store or --name is refused, as is a blank --name or one with
control characters, and a bus given twice in --connect.
A node whose model another live node already serves is refused by the
bus: it logs which model and node, and exits with status 1.
Exit status: 0 after SIGINT or SIGTERM, 1 when the bus refused to attach
it, 2 for a bad option, configuration or store.
)";

// The node's name in the bus's directory, its logs and the admin
// endpoint: an empty one used to fall back to the default silently.
CLI::Validator node_name() {
  return CLI::Validator(
    [](std::string& text) -> std::string {
      if (text.empty() || text.size() > max_name_bytes)
        return "takes a name of 1 to " + std::to_string(max_name_bytes) + " bytes, not "
               + (text.empty() ? std::string{"an empty string"}
                               : "one of " + std::to_string(text.size()));
      auto is = [&](auto pred) {
        return std::any_of(text.begin(), text.end(),
                           [&](char c) { return pred(static_cast<unsigned char>(c)); });
      };
      if (is([](unsigned char c) { return c < 0x20 || c == 0x7f; }))
        return "takes a name without control characters";
      if (!is([](unsigned char c) { return c != ' '; }))
        return "takes a name that is not blank";
      return {};
    },
    "", "node_name");
}

} // namespace

int main(int argc, char** argv) {
  // Every batch from the bus is decoded into fresh blocks (see glibc_heap.hpp).
  bus::app::keep_freed_memory_in_heap();
  bus::app::fail_writes_past_file_size_limit();
  std::vector<bus::endpoint> buses;
  std::string config_path;
  std::string name;
  std::string store_path;
  std::size_t snapshot_every = 0;
  std::size_t timeout_ms = 5000;
  bus::endpoint admin_at;
  bool serving_admin = false;
  bool allow_remote = false;
  bool insecure = false;
  bus::app::tls_files tls;
  bus::app::command_line cli{"bus-projector", summary, details};
  auto& app = cli.app();
  using bus::app::count_in;
  // One bus, or the bus nodes of one log of which one leads at a time
  // (PostgreSQL): the node follows whichever leads.
  auto connect_ports =
    [](const std::string& text) -> caf::expected<std::vector<bus::endpoint>> {
    std::vector<bus::endpoint> result;
    std::size_t start = 0;
    while (true) {
      auto comma = text.find(',', start);
      auto parsed = bus::parse_endpoint(text.substr(start, comma - start));
      if (!parsed)
        return parsed.error();
      if (parsed->port == 0)
        return bus::make_error(bus::errc::invalid_config, "port 0 names no bus");
      for (auto& seen : result)
        if (seen.host == parsed->host && seen.port == parsed->port)
          return bus::make_error(bus::errc::invalid_config,
                                 seen.host + ":" + std::to_string(seen.port)
                                   + " is given twice");
      result.push_back(std::move(*parsed));
      if (comma == std::string::npos)
        return result;
      start = comma + 1;
    }
  };
  bus::app::add_parsed(app, "--connect", buses, connect_ports,
                       "The bus to project from, published by bus-node "
                       "--listen HOST:PORT; or a comma-separated list of the "
                       "bus nodes of one log, of which one leads")
    ->type_name("HOST:PORT[,HOST:PORT...]")
    ->required();
  app
    .add_option("--config", config_path,
                "The read models to run (default: the embedded "
                "config/node.json)")
    ->check(bus::app::not_empty("FILE"))
    ->type_name("FILE");
  app
    .add_option("--name", name,
                "This node's name in the bus's directory (default: "
                "\"projector:\" and its model names)")
    ->check(node_name())
    ->type_name("NAME");
  app
    .add_option("--store", store_path,
                "Keep snapshots in PATH.snapshots and \"storage\": "
                "\"sqlite\" models in PATH.models (default: in memory)")
    ->check(bus::app::not_empty("PATH"))
    ->type_name("PATH");
  auto* snapshot_opt = app
                         .add_option(
                           "--snapshot-every", snapshot_every,
                           "With --store: snapshot each memory model every N events "
                           "(default: node.snapshot_every, 10000; 0: never)")
                         ->transform(count_in(0, UINT64_MAX))
                         ->type_name("N");
  app
    .add_option("--timeout-ms", timeout_ms,
                "Requests to the bus fail after N ms (default 5000)")
    ->transform(count_in(1, 86'400'000))
    ->type_name("N");
  bus::app::add_parsed(app, "--admin", admin_at, bus::parse_endpoint,
                       "Serve this node's admin endpoint over HTTP at "
                       "HOST:PORT (port 0: a free one, reported on stderr)",
                       [&] { serving_admin = true; })
    ->type_name("HOST:PORT");
  app.add_flag("--allow-remote", allow_remote,
               "Let --admin take an address that is not loopback");
  bus::app::add_tls_options(app, tls,
                            "for --connect: the bus protocol runs "
                            "over mutual TLS");
  app.add_flag("--insecure", insecure,
               "Let --connect reach a bus that is not on loopback without "
               "TLS, and --admin (plain HTTP, with --allow-remote) serve there");
  auto idle = bus::idle_workers::wake;
  bus::app::add_idle_workers(app, idle);
  cli.add_logging();
  if (auto status = cli.parse(argc, argv))
    return *status;
  // Options that apply only beside another one: alone they would change
  // nothing, and say nothing about it.
  if (auto status = cli.needs("--snapshot-every", {"--store"}))
    return *status;
  if (auto status = cli.needs("--allow-remote", {"--admin"}))
    return *status;
  if (serving_admin)
    if (auto err = bus::admin::check_endpoint(admin_at, allow_remote))
      return cli.usage_error("--admin " + bus::context_of(err));
  for (auto& bus_at : buses) {
    bus::app::network_exposure exposure;
    exposure.connect = &bus_at;
    exposure.admin = serving_admin ? &admin_at : nullptr;
    exposure.allow_remote = allow_remote;
    exposure.insecure = insecure;
    if (auto status = bus::app::check_exposure(cli, tls, exposure))
      return *status;
  }
  auto config = config_path.empty() ? bus::parse_config(bus::default_config_text())
                                    : bus::load_config(config_path);
  if (!config) {
    BUS_LOG(bus::log_level::error, "bus-projector",
            "bad configuration: " << bus::context_of(config.error()));
    return 2;
  }
  if (config->read_models.empty()) {
    BUS_LOG(bus::log_level::error, "bus-projector",
            "the configuration has no read models to run");
    return 2;
  }
  if (*snapshot_opt)
    config->node.snapshot_every = snapshot_every;
  using namespace bus::actors;
  connector_options options;
  // A partitioned model is shared with the other nodes that run it: the
  // bus spreads its partitions over them (a consumer group).
  for (auto& spec : config->read_models)
    if (spec.partitions > 1)
      options.shared.push_back({spec.name, spec.partitions});
    else
      options.models.push_back(spec.name);
  if (name.empty()) {
    name = "projector:";
    for (std::size_t i = 0; i < config->read_models.size(); ++i)
      name += (i > 0 ? "," : "") + config->read_models[i].name;
  }
  options.node = name;
  auto timeout = std::chrono::milliseconds{timeout_ms};
  options.timeout = timeout;
  projector_options projection;
  // The configuration's upcasters, shared by every projector.
  if (!bus::app::install_upcasters(*config, projection, "bus-projector"))
    return 2;
  projection.bus_timeout = caf::duration{timeout * 2};
  // Its partitioned models are shared: the bus assigns their partitions,
  // and their pauses move with them.
  projection.placement = partition_placement::by_bus;
  // Held until the node exits: two nodes writing one store's snapshots and
  // checkpoints would overwrite each other's. Taken before the node dials,
  // as bus-node opens its log: a store it cannot use stops it at once,
  // rather than let it hold its models' names with every model failed.
  std::optional<bus::store_files_lock> store_lock;
  if (!store_path.empty() && !bus::is_postgres_uri(store_path)) {
    auto locked = bus::store_files_lock::take(store_path);
    if (!locked) {
      BUS_LOG(bus::log_level::error, "bus-projector", bus::context_of(locked.error()));
      return 2;
    }
    store_lock = std::move(*locked);
  }
  if (!store_path.empty()) {
    // As bus-node keeps its models beside its log: snapshots of memory
    // models, and the tables of "storage": "sqlite" models.
    projection.snapshot_path = store_path + ".snapshots";
    projection.models_path = store_path + ".models";
    projection.lifecycle_path = store_path + ".lifecycle"; // pauses survive restarts
    projection.snapshot_every = config->node.snapshot_every;
    if (auto err = bus::check_store_files({projection.snapshot_path,
                                           projection.models_path,
                                           projection.lifecycle_path})) {
      BUS_LOG(bus::log_level::error, "bus-projector", bus::context_of(err));
      return 2;
    }
  }

  // Wait for SIGINT/SIGTERM in this thread: block them before CAF starts
  // its threads, which inherit the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  caf::actor_system_config cfg;
  bus::init(cfg);
  bus::one_worker_per_core(cfg, idle);
  bus::enable_network(cfg);
  if (tls.any())
    if (auto err = bus::app::enable_tls(cfg, tls))
      return cli.usage_error(bus::context_of(err));
  caf::actor_system sys{cfg};
  auto dial_one = [&](const bus::endpoint& at) {
    return tls.any()
             ? spawn_remote_dialer(sys, at.host, at.port, caf::timespan{timeout},
                                   sys.openssl_manager().actor_handle())
             : spawn_remote_dialer(sys, at.host, at.port, caf::timespan{timeout});
  };
  std::string where;
  for (auto& at : buses)
    where += (where.empty() ? "" : ", ") + at.host + ":" + std::to_string(at.port);
  dialer_actor dialer;
  if (buses.size() == 1) {
    dialer = dial_one(buses.front());
  } else {
    std::vector<dial_target> targets;
    for (auto& at : buses)
      targets.push_back({at.host + ":" + std::to_string(at.port), dial_one(at)});
    dialer = spawn_failover_dialer(sys, std::move(targets), caf::timespan{timeout});
    // A turn through every bus fits in one dial.
    options.dial_timeout = caf::timespan{timeout * (buses.size() + 1)};
  }
  auto specs = config->read_models;
  auto policy = config->supervision;
  auto make_supervisor = [&sys, specs, policy, projection](bus_actor bus) {
    return spawn_supervisor(sys, std::move(bus), specs, policy, projection);
  };
  BUS_LOG(bus::log_level::info, "bus-projector",
          name << ": connecting to " << where
               << (tls.any() ? " (mutual TLS)" : " (no TLS)"));
  auto connector = spawn_connector(sys, dialer, make_supervisor, options);
  // The connector stops by itself only when the bus refused this node (a
  // model already served elsewhere): wake the wait below, and exit 1.
  auto refused = std::make_shared<std::atomic<bool>>(false);
  caf::actor_cast<caf::actor>(connector)->attach_functor(
    [refused](const caf::error& why) {
      if (why && why != caf::exit_reason::user_shutdown) {
        *refused = true;
        ::kill(::getpid(), SIGTERM);
      }
    });
  caf::scoped_actor self{sys};
  std::unique_ptr<bus::admin::server> admin;
  if (serving_admin) {
    using bus::admin::admin_options;
    auto served = bus::admin::serve(sys, admin_options::of_projector_node(admin_at,
                                                                          connector));
    if (!served) {
      BUS_LOG(bus::log_level::error, "bus-projector",
              name << ": " << bus::context_of(served.error()));
      self->send_exit(connector, caf::exit_reason::user_shutdown);
      self->send_exit(dialer, caf::exit_reason::user_shutdown);
      return 2;
    }
    admin = std::move(*served);
    BUS_LOG(bus::log_level::info, "bus-projector",
            name << ": admin endpoint on " << admin->url());
  }
  int signal = 0;
  sigwait(&stop_signals, &signal);
  if (*refused) {
    admin.reset();
    self->send_exit(dialer, caf::exit_reason::user_shutdown);
    self->wait_for(dialer);
    return 1; // the connector logged why
  }
  BUS_LOG(bus::log_level::info, "bus-projector", name << ": stopping");
  admin.reset();
  self->send_exit(connector, caf::exit_reason::user_shutdown);
  self->send_exit(dialer, caf::exit_reason::user_shutdown);
  self->wait_for(connector, dialer);
  return 0;
}
