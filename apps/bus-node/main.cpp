// bus-node: the event bus as a JSON-lines node (protocol of seed 000).
// One request per line on stdin, one reply per line on stdout; logs go to
// stderr. At end of input it finishes every reply and exits 0.
// Options: node_options.cpp and docs/protocol.md. This file wires the
// parts: options, store, actors, the endpoints, then the input loop.

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
#include "bus/errc.hpp"
#include "bus/log.hpp"
#ifdef BUS_HAS_POSTGRESQL
#  include "lead_watch.hpp"
#endif
#include "config_upcasters.hpp"
#include "file_size_limit.hpp"
#include "glibc_heap.hpp"
#include "node_aggregates.hpp"
#include "node_options.hpp"
#include "node_startup.hpp"
#include "node_store.hpp"
#include "request_reader.hpp"
#include "session.hpp"
#include "tls_files.hpp"

namespace {

// Keeps at most this many chunks between the reader and the session, so
// that a fast producer cannot grow the session's mailbox without bound.
// A store's log fans an event out only once its group commit is done: with
// 4 chunks (some 20,000 of bus-gen's events) the read models waited for
// each commit, with 8 the commits overlap their work (docs/benchmarks.md,
// "Windows for group commits"). A memory log gains nothing from more.
constexpr int max_chunks_in_flight = 4;
constexpr int max_chunks_in_flight_stored = 8;

} // namespace

int main(int argc, char** argv) {
  // Chunks of requests are megabytes each (see glibc_heap.hpp).
  bus::app::keep_freed_memory_in_heap();
  bus::app::fail_writes_past_file_size_limit();
  bus::node::node_options opts;
  auto cli = bus::node::node_command_line();
  bus::node::add_node_options(cli, opts);
  if (auto status = cli.parse(argc, argv))
    return *status;
  if (auto status = bus::node::finish_node_options(cli, opts))
    return *status;
  auto config = opts.config_path.empty() ? bus::parse_config(bus::default_config_text())
                                         : bus::load_config(opts.config_path);
  if (!config) {
    BUS_LOG(bus::log_level::error, "bus-node",
            "bad configuration: " << bus::context_of(config.error()));
    return 2;
  }
  if (auto status = bus::node::apply_node_options(cli, opts, *config))
    return *status;

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

  auto store = bus::node::open_store(opts);
  if (!store) {
    BUS_LOG(bus::log_level::error, "bus-node", bus::context_of(store.error()));
    return 2;
  }

  // stdout carries the protocol (written through stdio, never std::cout):
  // what CAF prints itself (an actor's unhandled exception, through aout
  // and std::cout) goes to stderr with the logs, not between two replies.
  std::cout.rdbuf(std::cerr.rdbuf());
  caf::actor_system_config cfg;
  bus::init(cfg);
  bus::one_worker_per_core(cfg, opts.idle);
  if (opts.listening)
    bus::enable_network(cfg);
  if (opts.tls.any())
    if (auto err = bus::app::enable_tls(cfg, opts.tls))
      return cli.usage_error(bus::context_of(err));
  caf::actor_system sys{cfg};
  using namespace bus::actors;
  auto timeout = std::chrono::milliseconds{opts.timeout_ms};
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
  if (opts.listening) { // a delivery to a silent node must not hold a publish
    bus_opts.delivery_timeout = caf::duration{timeout * 6};
    bus_opts.peers = opts.peers;
  }
  bus::node::session_options options;
  for (auto& spec : config->read_models)
    options.models.push_back(spec.name);
  // Awaited models of other nodes come next, in the order given: their
  // place in updated_models must not depend on which node attached first.
  for (auto& name : opts.await_names)
    if (std::find(options.models.begin(), options.models.end(), name)
        == options.models.end())
      options.models.push_back(name);
  options.batch_size = config->node.batch_size;
  options.max_publishes_in_flight = session_publishes;
#ifdef BUS_HAS_POSTGRESQL
  if (store->lead.lease)
    options.lead = std::make_shared<std::atomic<std::int64_t>>(0);
#endif
  projector_options projection;
  // Counted by the projectors as they restore, read by the start-up's wait.
  projection.restores = std::make_shared<bus::restore_progress>();
  // The configuration's upcasters, shared by every projector.
  if (!bus::app::install_upcasters(*config, projection, "bus-node"))
    return 2;
  if (auto err = bus::node::place_model_files(opts, *store, *config, projection)) {
    BUS_LOG(bus::log_level::error, "bus-node", bus::context_of(err));
    return 2;
  }
  if (opts.listening) { // only projector nodes share models
    auto kept = bus::node::open_directory_store(projection.lifecycle_path,
                                                projection.lifecycle_fence);
    if (!kept) {
      BUS_LOG(bus::log_level::error, "bus-node", bus::context_of(kept.error()));
      return 2;
    }
    bus_opts.directory_store = std::move(*kept);
  }
  auto bus = spawn_bus(sys, store->log, bus_opts);
  // The command side, when the configuration names aggregates: it reads the
  // streams' versions from the log before it runs a command.
  command_handler_actor commands;
  if (streams) {
    command_handler_options handling;
    // A query after a command's answer sees its events.
    handling.wait = publish_wait::projectors;
    commands = spawn_command_handler(sys, bus, std::move(*streams), handling);
  }
  options.commands = commands;
  auto sup = opts.listening
               ? spawn_routing_supervisor(sys, bus, config->read_models,
                                          config->supervision, projection,
                                          remote_routing{timeout, opts.peers})
               : spawn_supervisor(sys, bus, config->read_models, config->supervision,
                                  projection);
  auto session = sys.spawn(bus::node::session_impl, bus, sup, options);
  auto lost_lead = std::make_shared<std::atomic<bool>>(false);
#ifdef BUS_HAS_POSTGRESQL
  bus::node::lead_watch lead;
  if (store->lead.lease)
    lead = bus::node::watch_lead(store->lead, options.lead, session, bus, lost_lead);
#endif

  caf::scoped_actor self{sys};
  auto stop = [&] {
    self->send_exit(session, caf::exit_reason::user_shutdown);
    self->send_exit(sup, caf::exit_reason::user_shutdown);
    self->send_exit(bus, caf::exit_reason::user_shutdown);
    if (commands)
      self->send_exit(commands, caf::exit_reason::user_shutdown);
  };
  if (opts.listening) {
    auto& at = opts.listen_at;
    auto host = at.host.c_str();
    auto port = opts.tls.any() ? caf::openssl::publish(bus, at.port, host, true)
                               : sys.middleman().publish(bus, at.port, host, true);
    if (!port) {
      BUS_LOG(bus::log_level::error, "bus-node",
              "cannot listen on " << at.host << ":" << at.port << ": "
                                  << sys.render(port.error()));
      stop();
      return 2;
    }
    BUS_LOG(bus::log_level::info, "bus-node",
            (opts.tls.any()
               ? "the bus protocol runs over mutual TLS (CA " + opts.tls.ca + ")"
               : std::string{"the bus protocol runs without TLS"}));
    BUS_LOG(bus::log_level::info, "bus-node",
            "listening on " << at.host << ":" << *port);
  }
  std::unique_ptr<bus::admin::server> admin;
  if (opts.serving_admin) {
    using bus::admin::admin_options;
    auto admin_opts = admin_options::of_bus_node(opts.admin_at, bus, sup);
#ifdef BUS_HAS_POSTGRESQL
    if (lead.board)
      admin_opts.lease = [board = lead.board] { return std::optional{board->get()}; };
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
  bus::node::node_startup start;
  start.bus = bus;
  start.supervisor = sup;
  start.patience = std::chrono::seconds{opts.startup_timeout_s};
  start.restores = projection.restores;
  start.awaited = opts.await_names;
  start.commands = commands;
  start.aggregate_types = config->commands.aggregates.size();
  if (!bus::node::wait_for_start(self, start)) {
    stop();
    return 1;
  }
  int in_flight = 0;
  auto max_in_flight = opts.store_path.empty() ? max_chunks_in_flight
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
  if (opts.store_path.empty() && !opts.listening) {
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
