// busctl: see and steer a bus node through its admin endpoint
// (docs/admin-api.md). Every command and exit code is documented in
// docs/operations.md, "busctl".

#include <cerrno>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "bus/endpoint.hpp"
#include "bus/errc.hpp"
#include "commands.hpp"

namespace {

constexpr const char* default_admin = "127.0.0.1:8080";
constexpr const char* admin_env = "BUSCTL_ADMIN";

std::chrono::milliseconds millis(double seconds) {
  return std::chrono::milliseconds{static_cast<std::int64_t>(seconds * 1000)};
}

// CLI11's own number checks print their range as a 300-digit double.
const CLI::Validator positive_integer{
  [](std::string& text) -> std::string {
    char* end = nullptr;
    errno = 0;
    auto x = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || errno != 0 || x <= 0)
      return "expected a positive integer, not '" + text + "'";
    return {};
  },
  "N"};

const CLI::Validator positive_seconds{
  [](std::string& text) -> std::string {
    char* end = nullptr;
    auto x = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0' || !(x > 0) || x > 86400)
      return "expected seconds above 0 (at most 86400), not '" + text + "'";
    return {};
  },
  "SECONDS"};

int code(busctl::exit_code x) {
  return static_cast<int>(x);
}

} // namespace

int main(int argc, char** argv) {
  using namespace busctl;
  CLI::App app{"busctl: see and steer a bus node (bus-node or bus-projector started\n"
               "with --admin HOST:PORT) through its admin endpoint.\n"
               "Exit codes: 0 done, 1 the node answered with an error, 2 bad usage,\n"
               "3 no answer from the endpoint, 4 `health` found the node unhealthy.",
               "busctl"};
  app.set_version_flag("--version", "busctl " BUS_VERSION);
  app.require_subcommand(1);
  // Global options may follow the command too: busctl status --json.
  app.fallthrough();

  std::string admin;
  if (auto* env = std::getenv(admin_env); env != nullptr && *env != '\0')
    admin = env;
  bool admin_from_env = !admin.empty();
  if (admin.empty())
    admin = default_admin;
  bool as_json = false;
  double timeout_s = 5;
  app.add_option("--admin", admin,
                 std::string{"the admin endpoint, HOST:PORT (default: $"} + admin_env
                   + ", else " + default_admin + ")");
  app.add_flag("--json", as_json, "print the endpoint's JSON instead of tables");
  app.add_option("--timeout", timeout_s, "seconds to wait for each answer (default 5)")
    ->check(positive_seconds);

  std::string model;
  auto add_model = [&](CLI::App* cmd) {
    cmd->add_option("model", model, "the read model's name")->required();
  };
  auto* status = app.add_subcommand("status", "every model: state, checkpoint, lag, counters");
  auto* lag = app.add_subcommand("lag", "how far behind the log's head each model is");
  auto* health = app.add_subcommand(
    "health", "healthy (exit 0) when every model is running or catching up, else exit 4");
  auto* pause = app.add_subcommand(
    "pause", "pause a model: it takes no events and answers from its frozen state");
  auto* resume = app.add_subcommand("resume", "resume a paused model (answers once caught up)");
  auto* restart = app.add_subcommand(
    "restart", "restart a model's projector (answers once caught up)");
  for (auto* cmd : {pause, resume, restart})
    add_model(cmd);

  rebuild_options rebuild_opts;
  bool no_wait = false;
  auto* rebuild = app.add_subcommand(
    "rebuild", "reproject a model from the log's first event, with progress until caught up");
  add_model(rebuild);
  rebuild->add_flag("--no-wait", no_wait, "return once the rebuild has started");

  std::optional<std::int64_t> seq;
  auto* parked = app.add_subcommand("parked", "list a model's parked (poison) events");
  add_model(parked);
  auto* retry = app.add_subcommand(
    "retry", "retry a parked event and those of its key behind it (no SEQ: all)");
  auto* discard = app.add_subcommand(
    "discard", "drop a parked event for good (no SEQ: all of the model's)");
  for (auto* cmd : {retry, discard}) {
    add_model(cmd);
    cmd->add_option("seq", seq, "the parked event's seq")->check(positive_integer);
  }

  std::int64_t from = 1;
  std::int64_t limit = 100;
  bool full = false;
  auto* events = app.add_subcommand("events", "browse the log (bus node only)");
  events->add_option("--from", from, "the first seq (default 1)")->check(positive_integer);
  events->add_option("--limit", limit, "events per page, 1 to 1000 (default 100)")
    ->check(CLI::Range(1, 1000));
  events->add_flag("--full", full, "print whole payloads (default: cut to 80 characters)");

  watch_options watch_opts;
  double interval_s = 1;
  auto* watch = app.add_subcommand(
    "watch", "the status, refreshed with each model's throughput, until Ctrl-C");
  watch->add_option("--interval", interval_s, "seconds between refreshes (default 1)")
    ->check(positive_seconds);
  watch->add_option("--count", watch_opts.count, "stop after N refreshes")
    ->check(positive_integer);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version end here too, with 0.
    return app.exit(e) == 0 ? 0 : code(exit_code::usage);
  }

  auto at = bus::parse_endpoint(admin);
  if (!at) {
    std::cerr << "busctl: " << (admin_from_env && admin == std::getenv(admin_env)
                                  ? std::string{admin_env}
                                  : std::string{"--admin"})
              << ": " << bus::context_of(at.error()) << "\n";
    return code(exit_code::usage);
  }
  admin_client client{*at, millis(timeout_s)};
  context ctx{client, as_json, isatty(STDOUT_FILENO) == 1, std::cout};
  try {
    if (status->parsed())
      return code(run_status(ctx));
    if (lag->parsed())
      return code(run_lag(ctx));
    if (health->parsed())
      return code(run_health(ctx));
    for (auto* cmd : {pause, resume, restart})
      if (cmd->parsed())
        return code(run_steer(ctx, model, cmd->get_name()));
    if (rebuild->parsed()) {
      rebuild_opts.wait = !no_wait;
      return code(run_rebuild(ctx, model, rebuild_opts));
    }
    if (parked->parsed())
      return code(run_parked(ctx, model));
    for (auto* cmd : {retry, discard})
      if (cmd->parsed())
        return code(run_unpark(ctx, model, cmd->get_name(), seq));
    if (events->parsed())
      return code(run_events(ctx, from, limit, full));
    if (watch->parsed()) {
      watch_opts.interval = millis(interval_s);
      return code(run_watch(ctx, watch_opts));
    }
  } catch (const unreachable& ex) {
    std::cout << std::flush;
    std::cerr << "busctl: " << ex.what() << "\n";
    return code(exit_code::unreachable);
  } catch (const refused& ex) {
    if (as_json && !ex.body().empty())
      std::cout << ex.body() << (ex.body().back() == '\n' ? "" : "\n");
    std::cout << std::flush;
    std::cerr << "busctl: " << ex.what() << "\n";
    return code(exit_code::refused);
  }
  return code(exit_code::usage); // nop: require_subcommand(1) holds
}
