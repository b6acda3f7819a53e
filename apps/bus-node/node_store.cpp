#include "node_store.hpp"

#include <chrono>
#include <filesystem>
#include <system_error>
#include <unistd.h>
#include <utility>

#include "bus/errc.hpp"
#include "bus/log.hpp"
#include "bus/memory_log.hpp"
#include "bus/sqlite_log.hpp"
#include "bus/store_files.hpp"
#include "bus/store_location.hpp"

namespace bus::node {

namespace {

#ifdef BUS_HAS_POSTGRESQL
// How the other bus nodes of a shared log name this one while it leads:
// where projector nodes reach it, and its process.
std::string lease_holder(const endpoint* listen_at) {
  char host[256] = "";
  ::gethostname(host, sizeof(host) - 1);
  std::string result;
  if (listen_at != nullptr)
    result = listen_at->host + ":" + std::to_string(listen_at->port) + ", ";
  return result + "pid " + std::to_string(::getpid()) + " on " + host;
}
#endif

} // namespace

caf::expected<node_store> open_store(const node_options& opts) {
  node_store result;
  auto& path = opts.store_path;
  // A URI names a database server; anything else is a SQLite file.
  result.on_server = is_postgres_uri(path);
  if (path.empty()) {
    result.log = std::make_shared<memory_log>();
  } else if (result.on_server) {
#ifdef BUS_HAS_POSTGRESQL
    // Stands by until this node leads the log.
    lease_options leasing;
    leasing.holder = lease_holder(opts.listening ? &opts.listen_at : nullptr);
    leasing.ttl = std::chrono::milliseconds{opts.lease_ms};
    auto led = lead_log(path, opts.policy, leasing);
    if (!led)
      return led.error();
    BUS_LOG(log_level::info, "bus-node",
            "store " << led->log->name() << " holds " << led->log->head()
                     << " events (durability " << to_string(opts.policy) << ")");
    result.log = led->log;
    result.lead = std::move(*led);
#else
    return make_error(errc::invalid_config,
                      "--store: this bus-node was built without PostgreSQL "
                      "(BUS_POSTGRESQL); give a SQLite file instead of a URI");
#endif
  } else {
    // SQLite says only "unable to open database file" of a directory.
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
      return make_error(errc::invalid_config,
                        "--store " + path
                          + ": is a directory; give the SQLite file to keep the "
                            "log in (created if missing), e.g. "
                          + path + "/bus.db");
    auto opened = sqlite_log::open(path, opts.policy);
    if (!opened)
      return opened.error();
    BUS_LOG(log_level::info, "bus-node",
            "store " << path << " holds " << (*opened)->head() << " events (durability "
                     << to_string(opts.policy) << ")");
    result.log = std::move(*opened);
  }
  return result;
}

caf::error place_model_files(const node_options& opts, const node_store& store,
                             const bus_config& config,
                             actors::projector_options& projection) {
  auto& path = opts.store_path;
  if (store.on_server) {
    // Snapshots in the log's database (tables bus_snapshot*): a restart,
    // or a standby taking the lead, replays only the tail. SQLite-stored
    // models keep their tables there too (bus_model_*), and pauses are
    // kept there: whichever node leads finds them.
    projection.snapshot_path = path;
    projection.snapshot_every = config.node.snapshot_every;
    projection.models_path = path;
    projection.lifecycle_path = path;
#ifdef BUS_HAS_POSTGRESQL
    // Fenced as the log is: a leader stalled past its lease keeps no pause
    // once another node leads.
    if (auto& lease = store.lead.lease)
      projection.lifecycle_fence = postgres_fence{lease->options().name,
                                                  lease->token()};
#endif
    BUS_LOG(log_level::info, "bus-node",
            "store on PostgreSQL: read models are snapshotted in its database "
            "(tables bus_snapshot*) every "
              << config.node.snapshot_every
              << " events; \"storage\": \"sqlite\" models keep their tables "
                 "there (bus_model_*), and pauses are kept there");
    return {};
  }
  if (path.empty())
    return {};
  // Their own file: a snapshot being written never blocks log appends.
  projection.snapshot_path = path + ".snapshots";
  projection.snapshot_every = config.node.snapshot_every;
  // Models with "storage": "sqlite" keep their tables and checkpoints here.
  projection.models_path = path + ".models";
  // Pauses, so that they survive a restart of the node.
  projection.lifecycle_path = path + ".lifecycle";
  return check_store_files(
    {projection.snapshot_path, projection.models_path, projection.lifecycle_path});
}

caf::expected<std::shared_ptr<lifecycle_store>>
open_directory_store(const std::string& location,
                     const std::optional<postgres_fence>& fence) {
  if (location.empty())
    return std::shared_ptr<lifecycle_store>{};
  auto opened = lifecycle_store::open(location, fence);
  if (!opened)
    return opened.error();
  if (auto kept = (*opened)->partition_intents(); !kept)
    return kept.error();
  return std::shared_ptr<lifecycle_store>{std::move(*opened)};
}

} // namespace bus::node
