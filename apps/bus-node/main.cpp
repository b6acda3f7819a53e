// bus-node: the event bus as a JSON-lines node (protocol of seed 000).
// One request per line on stdin, one reply per line on stdout; logs go to
// stderr. At end of input it finishes every reply and exits 0.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <malloc.h>
#include <memory>
#include <string>
#include <thread>

#include <boost/json/parser.hpp>
#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "bus/actors/bus_actor.hpp"
#include "bus/actors/init.hpp"
#include "bus/actors/supervisor.hpp"
#include "bus/config.hpp"
#include "bus/endpoint.hpp"
#include "bus/errc.hpp"
#include "bus/memory_log.hpp"
#include "bus/sqlite_log.hpp"
#include "line_reader.hpp"
#include "session.hpp"

namespace {

constexpr const char* usage = R"(usage: bus-node [--config FILE] [--store PATH]
                [--durability fsync|os|interval:N] [--snapshot-every N]
                [--max-line-bytes N] [--batch-size N]
                [--listen HOST:PORT [--allow-remote] [--timeout-ms N]]

Reads protocol requests (JSON, one per line) on stdin and writes replies on
stdout. Without --config it runs the embedded default configuration
(config/node.json: read models user_listing and user_by_email). Without
--store the log lives in memory; with it, in the SQLite file PATH, and a
restart on the same file rebuilds the read models from it. --durability
fsync (default) syncs every batch to disk before acknowledging it; os leaves
that to the OS (survives a crash of the node, not a power loss); interval:N
syncs the batches of N milliseconds together (1 to 60000), acknowledging
each after the sync that covers it. With a store, read models are
snapshotted every --snapshot-every events (default from the config: 10000;
0: never), and a restart replays only the tail. Read models configured with
"storage": "sqlite" live in tables of PATH.models instead, committed with
their checkpoint after every batch; without --store they stay in memory.
--listen publishes the bus at HOST:PORT (port 0 picks a free one; the port
is reported on stderr) for projector nodes (bus-projector --connect): they
take events like local models, and queries, status and updated_models cover
their models too. HOST must be a loopback address unless --allow-remote is
given: the bus protocol has no authentication or encryption, so anyone who
reaches the port can read and publish every event. Requests to other nodes
fail after --timeout-ms (default 5000) with an error naming the model.
)";


// Keeps at most this many chunks between the reader and the session, so
// that a fast producer cannot grow the session's mailbox without bound.
constexpr int max_chunks_in_flight = 4;

bool parse_size(const char* text, std::size_t& out) {
  // strtoull would take a sign or blanks ("-5" wraps around): digits only.
  if (*text < '0' || *text > '9')
    return false;
  char* end = nullptr;
  errno = 0;
  auto x = std::strtoull(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || x == 0)
    return false;
  out = x;
  return true;
}

// Waits until every projector has caught up (or has failed for good); a
// projector restarting at start is waited for, up to a deadline.
bool wait_until_ready(caf::scoped_actor& self,
                      const bus::actors::supervisor_actor& sup) {
  using namespace std::chrono;
  auto deadline = steady_clock::now() + seconds{30};
  while (steady_clock::now() < deadline) {
    bool ready = false;
    self->request(sup, seconds{30}, bus::actors::ready_atom::value)
      .receive(
        [&](std::vector<bus::actors::projector_status>& xs) {
          ready = std::all_of(xs.begin(), xs.end(), [](auto& x) {
            using bus::actors::model_state;
            return x.state == model_state::running || x.state == model_state::failed;
          });
        },
        [](caf::error&) {});
    if (ready)
      return true;
    std::this_thread::sleep_for(milliseconds{10}); // a restart's backoff
  }
  return false;
}

} // namespace

int main(int argc, char** argv) {
#ifndef BUS_JEMALLOC
  // Chunks of requests are megabytes each: by default glibc would map and
  // unmap every one (and trim the heap), so the kernel would fault the same
  // memory in again for each chunk. Keep such blocks in the heap.
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
#endif
  std::string config_path;
  std::string store_path;
  bus::durability policy = bus::durability::fsync_each_batch;
  std::size_t max_line = 0;
  std::size_t batch_size = 0;
  std::size_t snapshot_every = 0;
  bool snapshot_every_given = false;
  bus::endpoint listen_at;
  bool listening = false;
  bool allow_remote = false;
  std::size_t timeout_ms = 5000;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const char* name) -> const char* {
      if (i + 1 >= argc) {
        std::cerr << "bus-node: " << name << " needs a value\n" << usage;
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--config") {
      config_path = value("--config");
    } else if (arg == "--store") {
      store_path = value("--store");
    } else if (arg == "--durability") {
      auto parsed = bus::parse_durability(value("--durability"));
      if (!parsed) {
        std::cerr << "bus-node: " << bus::context_of(parsed.error()) << "\n";
        return 2;
      }
      policy = *parsed;
    } else if (arg == "--max-line-bytes") {
      if (!parse_size(value("--max-line-bytes"), max_line)) {
        std::cerr << "bus-node: --max-line-bytes takes a positive integer\n";
        return 2;
      }
    } else if (arg == "--snapshot-every") {
      auto text = value("--snapshot-every");
      snapshot_every_given = true;
      if (std::string{text} != "0" && !parse_size(text, snapshot_every)) {
        std::cerr << "bus-node: --snapshot-every takes a non-negative integer\n";
        return 2;
      }
    } else if (arg == "--batch-size") {
      if (!parse_size(value("--batch-size"), batch_size)) {
        std::cerr << "bus-node: --batch-size takes a positive integer\n";
        return 2;
      }
    } else if (arg == "--listen") {
      auto parsed = bus::parse_endpoint(value("--listen"));
      if (!parsed) {
        std::cerr << "bus-node: --listen: " << bus::context_of(parsed.error()) << "\n";
        return 2;
      }
      listen_at = std::move(*parsed);
      listening = true;
    } else if (arg == "--allow-remote") {
      allow_remote = true;
    } else if (arg == "--timeout-ms") {
      if (!parse_size(value("--timeout-ms"), timeout_ms)) {
        std::cerr << "bus-node: --timeout-ms takes a positive integer\n";
        return 2;
      }
    } else if (arg == "--help" || arg == "-h") {
      std::cout << usage;
      return 0;
    } else {
      std::cerr << "bus-node: unknown option " << arg << "\n" << usage;
      return 2;
    }
  }
  if (listening && !allow_remote && !bus::is_loopback(listen_at.host)) {
    std::cerr << "bus-node: --listen " << listen_at.host
              << " is not a loopback address; the bus protocol has no "
                 "authentication, so pass --allow-remote to listen there\n";
    return 2;
  }
  auto config = config_path.empty() ? bus::parse_config(bus::default_config_text())
                                    : bus::load_config(config_path);
  if (!config) {
    std::cerr << "bus-node: bad configuration: "
              << bus::context_of(config.error()) << "\n";
    return 2;
  }
  if (max_line > 0)
    config->node.max_line_bytes = max_line;
  if (batch_size > 0)
    config->node.batch_size = batch_size;
  if (snapshot_every_given)
    config->node.snapshot_every = snapshot_every;

  std::shared_ptr<bus::event_log> log;
  if (store_path.empty()) {
    log = std::make_shared<bus::memory_log>();
  } else {
    auto opened = bus::sqlite_log::open(store_path, policy);
    if (!opened) {
      std::cerr << "bus-node: " << bus::context_of(opened.error()) << "\n";
      return 2;
    }
    std::cerr << "bus-node: store " << store_path << " holds "
              << (*opened)->head() << " events (durability "
              << bus::to_string(policy) << ")\n";
    log = std::move(*opened);
  }

  caf::actor_system_config cfg;
  bus::init(cfg);
  bus::one_worker_per_core(cfg);
  if (listening)
    bus::enable_network(cfg);
  caf::actor_system sys{cfg};
  using namespace bus::actors;
  auto timeout = std::chrono::milliseconds{timeout_ms};
  bus_options bus_opts;
  if (listening) // a delivery to a silent node must not hold a publish
    bus_opts.delivery_timeout = caf::duration{timeout * 6};
  auto bus = sys.spawn(bus_impl, log, bus_opts);
  bus::node::session_options options;
  for (auto& spec : config->read_models)
    options.models.push_back(spec.name);
  options.batch_size = config->node.batch_size;
  projector_options projection;
  if (!store_path.empty()) {
    // Their own file: a snapshot being written never blocks log appends.
    projection.snapshot_path = store_path + ".snapshots";
    projection.snapshot_every = config->node.snapshot_every;
    // Models with "storage": "sqlite" keep their tables and checkpoints here.
    projection.models_path = store_path + ".models";
  }
  auto sup = listening
               ? sys.spawn(routing_supervisor_impl, bus, config->read_models,
                           config->supervision, projection,
                           remote_routing{timeout})
               : sys.spawn(supervisor_impl, bus, config->read_models,
                           config->supervision, projection);
  auto session = sys.spawn(bus::node::session_impl, bus, sup, options);

  caf::scoped_actor self{sys};
  auto stop = [&] {
    self->send_exit(session, caf::exit_reason::user_shutdown);
    self->send_exit(sup, caf::exit_reason::user_shutdown);
    self->send_exit(bus, caf::exit_reason::user_shutdown);
  };
  if (listening) {
    auto port = sys.middleman().publish(bus, listen_at.port,
                                        listen_at.host.c_str(), true);
    if (!port) {
      std::cerr << "bus-node: cannot listen on " << listen_at.host << ":"
                << listen_at.port << ": " << sys.render(port.error()) << "\n";
      stop();
      return 2;
    }
    std::cerr << "bus-node: listening on " << listen_at.host << ":" << *port
              << std::endl;
  }
  // Read nothing before every projector is registered with the bus and
  // caught up: an event published earlier would reach no read model in time
  // for its reply.
  // With a store, this is where the read models are rebuilt from it.
  if (!wait_until_ready(self, sup)) {
    std::cerr << "bus-node: read models did not start in time\n";
    stop();
    return 1;
  }
  int in_flight = 0;
  auto wait_one = [&] {
    self->receive([&](bus::node::chunk_done_atom) { --in_flight; });
  };
  bus::node::line_reader reader{0, config->node.max_line_bytes};
  boost::json::parser parser;
  auto new_chunk = [] {
    auto result = std::make_shared<std::vector<bus::node::request>>();
    result->reserve(8192);
    return result;
  };
  auto chunk = new_chunk();
  auto on_line = [&](std::string_view line, std::size_t number) {
    parser.reset();
    boost::system::error_code ec;
    parser.write(line.data(), line.size(), ec); // the whole line, one value
    if (!ec) {
      auto value = parser.release();
      if (auto* obj = value.if_object()) {
        bus::node::parse_request(*obj, chunk->emplace_back());
        return;
      }
    }
    std::cerr << "bus-node: line " << number
              << ": not a JSON object, skipped\n";
  };
  auto on_overlong = [&](std::size_t number) {
    std::cerr << "bus-node: line " << number << ": longer than "
              << config->node.max_line_bytes << " bytes, skipped\n";
  };
  bool more = true;
  while (more) {
    more = reader.read_block(on_line, on_overlong);
    if (chunk->empty())
      continue;
    if (in_flight >= max_chunks_in_flight)
      wait_one();
    self->send(session, bus::node::chunk_atom::value, std::move(chunk),
               caf::actor{self});
    ++in_flight;
    chunk = new_chunk();
  }
  while (in_flight > 0)
    wait_one();
  stop();
  self->wait_for(session, sup, bus);
  return 0;
}
