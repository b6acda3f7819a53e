// bus-projector: a projector node. Runs the read models of its config,
// projected from a bus on another node (bus-node --listen), and keeps them
// attached to it across losses of either side. Logs go to stderr; it runs
// until SIGINT or SIGTERM.

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>
#include <unistd.h>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "bus/actors/connector.hpp"
#include "bus/actors/init.hpp"
#include "bus/actors/supervisor.hpp"
#include "bus/admin/server.hpp"
#include "bus/config.hpp"
#include "bus/endpoint.hpp"
#include "bus/errc.hpp"

namespace {

constexpr const char* usage = R"(usage: bus-projector --connect HOST:PORT [--config FILE] [--name NAME]
                     [--store PATH] [--snapshot-every N] [--timeout-ms N]
                     [--admin HOST:PORT [--allow-remote]]

Connects to the bus published by `bus-node --listen HOST:PORT`, runs the
read models of FILE (default: the embedded config/node.json) and registers
them with the bus, which then fans events out to them and routes queries on
its node to them. When the bus is lost, it reconnects with backoff and every
model pulls what it missed from its checkpoint. NAME identifies the node in
the bus's directory (default: "projector:" and its model names). With
--store, memory models are snapshotted to PATH.snapshots every N events
(default 10000) and "storage": "sqlite" models live in tables of
PATH.models, so a restarted node pulls only the events after them.
Requests to the bus time out after --timeout-ms (default 5000).
--admin serves this node's admin endpoint over HTTP at HOST:PORT (status,
health and metrics of its models, their lifecycle and parked events;
docs/admin-api.md); HOST must be a loopback address unless --allow-remote is
given. Port 0 picks a free one, reported on stderr.
)";

bool parse_count(const std::string& text, std::size_t& out, bool zero_ok) {
  if (text.empty() || text.size() > 12
      || text.find_first_not_of("0123456789") != std::string::npos)
    return false;
  out = std::stoull(text);
  return zero_ok || out > 0;
}

} // namespace

int main(int argc, char** argv) {
  std::string endpoint;
  std::string config_path;
  std::string name;
  std::string store_path;
  std::size_t snapshot_every = 0;
  bool snapshot_every_given = false;
  std::size_t timeout_ms = 5000;
  std::string admin_text;
  bool allow_remote = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "bus-projector: " << arg << " needs a value\n" << usage;
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--connect") {
      endpoint = value();
    } else if (arg == "--config") {
      config_path = value();
    } else if (arg == "--name") {
      name = value();
    } else if (arg == "--store") {
      store_path = value();
    } else if (arg == "--snapshot-every") {
      snapshot_every_given = true;
      if (!parse_count(value(), snapshot_every, true)) {
        std::cerr << "bus-projector: --snapshot-every takes a non-negative integer\n";
        return 2;
      }
    } else if (arg == "--timeout-ms") {
      if (!parse_count(value(), timeout_ms, false)) {
        std::cerr << "bus-projector: --timeout-ms takes a positive integer\n";
        return 2;
      }
    } else if (arg == "--admin") {
      admin_text = value();
    } else if (arg == "--allow-remote") {
      allow_remote = true;
    } else if (arg == "--help" || arg == "-h") {
      std::cout << usage;
      return 0;
    } else {
      std::cerr << "bus-projector: unknown option " << arg << "\n" << usage;
      return 2;
    }
  }
  if (endpoint.empty()) {
    std::cerr << "bus-projector: --connect HOST:PORT is required\n" << usage;
    return 2;
  }
  auto bus_at = bus::parse_endpoint(endpoint);
  if (!bus_at || bus_at->port == 0) {
    std::cerr << "bus-projector: --connect: "
              << (bus_at ? "port 0 names no bus" : bus::context_of(bus_at.error()))
              << "\n";
    return 2;
  }
  auto admin_at = bus::admin::admin_endpoint(admin_text, allow_remote);
  if (!admin_at) {
    std::cerr << "bus-projector: --admin: " << bus::context_of(admin_at.error()) << "\n";
    return 2;
  }
  auto& host = bus_at->host;
  auto port = bus_at->port;
  auto config = config_path.empty() ? bus::parse_config(bus::default_config_text())
                                    : bus::load_config(config_path);
  if (!config) {
    std::cerr << "bus-projector: bad configuration: "
              << bus::context_of(config.error()) << "\n";
    return 2;
  }
  if (config->read_models.empty()) {
    std::cerr << "bus-projector: the configuration has no read models to run\n";
    return 2;
  }
  if (snapshot_every_given)
    config->node.snapshot_every = snapshot_every;
  using namespace bus::actors;
  connector_options options;
  for (auto& spec : config->read_models)
    options.models.push_back(spec.name);
  if (name.empty()) {
    name = "projector:";
    for (std::size_t i = 0; i < options.models.size(); ++i)
      name += (i > 0 ? "," : "") + options.models[i];
  }
  options.node = name;
  auto timeout = std::chrono::milliseconds{timeout_ms};
  options.timeout = timeout;
  options.log = [name](const std::string& line) {
    std::cerr << "bus-projector " << name << ": " << line << std::endl;
  };
  projector_options projection;
  projection.bus_timeout = caf::duration{timeout * 2};
  if (!store_path.empty()) {
    // As bus-node keeps its models beside its log: snapshots of memory
    // models, and the tables of "storage": "sqlite" models.
    projection.snapshot_path = store_path + ".snapshots";
    projection.models_path = store_path + ".models";
    projection.snapshot_every = config->node.snapshot_every;
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
  bus::one_worker_per_core(cfg);
  bus::enable_network(cfg);
  caf::actor_system sys{cfg};
  auto dialer = sys.spawn(remote_dialer_impl, host, port, caf::timespan{timeout});
  auto specs = config->read_models;
  auto policy = config->supervision;
  auto make_supervisor = [&sys, specs, policy, projection](bus_actor bus) {
    return sys.spawn(supervisor_impl, std::move(bus), specs, policy, projection);
  };
  std::cerr << "bus-projector " << name << ": connecting to " << host << ":"
            << port << std::endl;
  auto connector = sys.spawn(connector_impl, dialer, make_supervisor, options);
  std::unique_ptr<bus::admin::server> admin;
  if (*admin_at) {
    using bus::admin::admin_options;
    auto served
      = bus::admin::serve(sys, admin_options::of_projector_node(**admin_at, connector));
    if (!served) {
      std::cerr << "bus-projector " << name << ": --admin: "
                << bus::context_of(served.error()) << std::endl;
      caf::anon_send_exit(connector, caf::exit_reason::user_shutdown);
      caf::anon_send_exit(dialer, caf::exit_reason::user_shutdown);
      return 2;
    }
    admin = std::move(*served);
    std::cerr << "bus-projector " << name << ": admin endpoint on " << admin->url()
              << std::endl;
  }
  int signal = 0;
  sigwait(&stop_signals, &signal);
  std::cerr << "bus-projector " << name << ": stopping" << std::endl;
  admin.reset();
  caf::scoped_actor self{sys};
  self->send_exit(connector, caf::exit_reason::user_shutdown);
  self->send_exit(dialer, caf::exit_reason::user_shutdown);
  self->wait_for(connector, dialer);
  return 0;
}
