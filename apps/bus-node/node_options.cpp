#include "node_options.hpp"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "bus/admin/server.hpp"
#include "bus/errc.hpp"
#include "bus/store_location.hpp"
#include "network_exposure.hpp"

namespace bus::node {

namespace {

// --await-models takes each list whole and finish_node_options splits it:
// CLI11's own split drops empty names, and a list of commas alone then got
// only CLI11's "1 required NAME,... missing".
CLI::Validator names_listed() {
  return CLI::Validator(
    [](std::string& text) -> std::string {
      if (text.find_first_not_of(',') != std::string::npos)
        return {};
      return "takes read model names separated by commas (NAME,...), not '" + text
             + "'";
    },
    "", "names_listed");
}

// The names of the --await-models lists, empty ones (a doubled comma)
// skipped.
std::vector<std::string> listed_names(const std::vector<std::string>& lists) {
  std::vector<std::string> names;
  for (auto& list : lists)
    for (std::size_t at = 0; at < list.size();) {
      auto end = std::min(list.find(',', at), list.size());
      if (end > at)
        names.push_back(list.substr(at, end - at));
      at = end + 1;
    }
  return names;
}

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

} // namespace

app::command_line node_command_line() {
  return app::command_line{"bus-node", summary, details};
}

void add_node_options(app::command_line& cli, node_options& opts) {
  auto parse_role = [](const std::string& text) -> caf::expected<actors::peer_role> {
    if (auto role = actors::parse_peer_role(text))
      return *role;
    return make_error(errc::invalid_config,
                      "takes projector, publisher or unrestricted, not '" + text + "'");
  };
  auto& parser = cli.app();
  using app::count_in;
  parser
    .add_option("--config", opts.config_path,
                "Read models, supervision and node limits (default: the "
                "embedded config/node.json)")
    ->check(app::not_empty("FILE"))
    ->type_name("FILE");
  parser
    .add_option("--store", opts.store_path,
                "Keep the log in the SQLite file PATH, created if missing, or "
                "in the PostgreSQL database of a postgresql:// URI (default: "
                "in memory)")
    ->check(app::not_empty("PATH"))
    ->type_name("PATH");
  app::add_parsed(parser, "--durability", opts.policy, parse_durability,
                  "With --store: fsync (default), os or interval:N "
                  "(N: 1 to 60000 ms, group commit)")
    ->type_name("POLICY");
  parser
    .add_option_function<std::size_t>(
      "--snapshot-every", [&opts](const std::size_t& n) { opts.snapshot_every = n; },
      "With --store: snapshot each read model every N events "
      "(default: node.snapshot_every, 10000; 0: never)")
    ->transform(count_in(0, UINT64_MAX))
    ->type_name("N");
  parser
    .add_option("--max-line-bytes", opts.max_line,
                "Skip longer input lines (default: node.max_line_bytes, "
                "1048576; 64 to 1073741824, as there)")
    ->transform(count_in(64, 1 << 30))
    ->type_name("N");
  parser
    .add_option("--batch-size", opts.batch_size,
                "Events per publish batch (default: node.batch_size, 1024)")
    ->transform(count_in(1, 1 << 20))
    ->type_name("N");
  parser
    .add_option("--lease-ms", opts.lease_ms,
                "With a PostgreSQL store: the lease of the leading bus node "
                "lasts N ms past its last renewal (default 5000)")
    ->transform(count_in(100, 600'000))
    ->type_name("N");
  app::add_parsed(parser, "--listen", opts.listen_at, parse_endpoint,
                  "Publish the bus for projector nodes at HOST:PORT "
                  "(port 0: a free one, reported on stderr)",
                  [&opts] { opts.listening = true; })
    ->type_name("HOST:PORT");
  parser.add_flag("--allow-remote", opts.allow_remote,
                  "Let --listen and --admin take an address that is not loopback");
  app::add_tls_options(parser, opts.tls,
                       "for --listen: the bus protocol runs over "
                       "mutual TLS");
  app::add_parsed(parser, "--peer-role", opts.peers, parse_role,
                  "With --listen: what other nodes may do: projector "
                  "(default: subscribe, replay, attach and serve models), "
                  "publisher (also publish) or unrestricted (also "
                  "lifecycle requests)")
    ->type_name("projector|publisher|unrestricted");
  parser.add_flag("--insecure", opts.insecure,
                  "With --allow-remote: let --listen without TLS, and --admin "
                  "(plain HTTP), take an address that is not loopback");
  parser
    .add_option("--timeout-ms", opts.timeout_ms,
                "With --listen: requests to other nodes fail after N ms "
                "(default 5000)")
    ->transform(count_in(1, 86'400'000))
    ->type_name("N");
  parser
    .add_option("--startup-timeout", opts.startup_timeout_s,
                "Exit 1 when the read models catching up at start make no "
                "progress for this long (default 30; 0: no limit)")
    ->transform(count_in(0, 31'536'000))
    ->type_name("SECONDS");
  parser
    .add_option("--await-models", opts.await_names,
                "Read no input until these read models (here or on "
                "projector nodes) run; gives up like --startup-timeout")
    ->check(app::not_empty("NAME"))
    ->check(names_listed())
    ->type_name("NAME,...");
  app::add_parsed(parser, "--admin", opts.admin_at, parse_endpoint,
                  "Serve the admin endpoint over HTTP at HOST:PORT "
                  "(port 0: a free one, reported on stderr)",
                  [&opts] { opts.serving_admin = true; })
    ->type_name("HOST:PORT");
  app::add_idle_workers(parser, opts.idle);
  cli.add_logging();
}

std::optional<int> finish_node_options(app::command_line& cli, node_options& opts) {
  opts.await_names = listed_names(opts.await_names);
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
      return status;
  if (cli.app().count("--lease-ms") > 0 && !is_postgres_uri(opts.store_path))
    return cli.usage_error(
      std::string{"--lease-ms applies to a PostgreSQL store (--store "
                  "postgresql://...), whose bus nodes take turns by lease; "}
      + (opts.store_path.empty() ? "without --store the log lives in memory"
                                 : "a SQLite store is one node's, held by its lock"));
  if (opts.serving_admin)
    if (auto err = admin::check_endpoint(opts.admin_at, opts.allow_remote))
      return cli.usage_error("--admin " + context_of(err));
  app::network_exposure exposure;
  exposure.listen = opts.listening ? &opts.listen_at : nullptr;
  exposure.admin = opts.serving_admin ? &opts.admin_at : nullptr;
  exposure.allow_remote = opts.allow_remote;
  exposure.insecure = opts.insecure;
  return app::check_exposure(cli, opts.tls, exposure);
}

std::optional<int> apply_node_options(const app::command_line& cli,
                                      const node_options& opts, bus_config& config) {
  if (opts.max_line > 0)
    config.node.max_line_bytes = opts.max_line;
  if (opts.batch_size > 0)
    config.node.batch_size = opts.batch_size;
  if (opts.snapshot_every)
    config.node.snapshot_every = *opts.snapshot_every;
  // Only projector nodes bring models the configuration lacks, and only
  // to a node that listens: such a name would be awaited in vain.
  if (!opts.listening)
    for (auto& name : opts.await_names)
      if (std::none_of(config.read_models.begin(), config.read_models.end(),
                       [&](const model_spec& spec) { return spec.name == name; }))
        return cli.usage_error("--await-models " + name
                               + ": no read model of the configuration has this "
                                 "name, and without --listen no projector node "
                                 "can attach one");
  return std::nullopt;
}

} // namespace bus::node
