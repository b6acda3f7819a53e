// busctl: see and steer a bus node through its admin endpoint
// (docs/admin-api.md). Every command and exit code is documented in
// docs/operations.md, "busctl".

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <unistd.h>

#include "bus/endpoint.hpp"
#include "bus/errc.hpp"
#include "command_line.hpp"
#include "commands.hpp"

namespace {

constexpr const char* default_admin = "127.0.0.1:8080";
constexpr const char* admin_env = "BUSCTL_ADMIN";

constexpr const char* summary
  = "busctl: see and steer a bus node (bus-node or bus-projector started with\n"
    "--admin HOST:PORT) through its admin endpoint.";

constexpr const char* details
  = "Exit status: 0 done, 1 the node answered with an error (shown), 2 bad\n"
    "usage, 3 no answer from the endpoint, 4 `health` found the node\n"
    "unhealthy. Every command: docs/operations.md, \"busctl\".";

// Seconds with a fraction (watch --interval 0.5); CLI11's own check prints
// its range as a 300-digit double.
const CLI::Validator positive_seconds{
  [](std::string& text) -> std::string {
    char* end = nullptr;
    auto x = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0' || !(x > 0) || x > 86400)
      return "takes seconds above 0 (at most 86400), not '" + text + "'";
    return {};
  },
  "SECONDS"};

int code(busctl::exit_code x) {
  return static_cast<int>(x);
}

// The first word of the command line that is neither an option nor an
// option's value, if it names no command of `app`.
std::optional<std::string> unknown_command(CLI::App& app, int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("-", 0) == 0) {
      // An option of busctl's own that takes a value, given apart from it.
      auto* opt = arg.find('=') == std::string::npos ? app.get_option_no_throw(arg)
                                                     : nullptr;
      if (opt != nullptr && opt->get_items_expected_min() > 0)
        ++i;
      continue;
    }
    for (auto* cmd : app.get_subcommands({}))
      if (cmd->check_name(arg))
        return std::nullopt;
    return arg;
  }
  return std::nullopt;
}

} // namespace

int main(int argc, char** argv) {
  using namespace busctl;
  using bus::app::count_in;
  bus::app::command_line cli{"busctl", summary, details};
  auto& app = cli.app();
  app.require_subcommand(1);
  // Options of busctl itself may follow the command: busctl status --json.
  app.fallthrough();

  std::string admin;
  bool as_json = false;
  std::int64_t timeout_ms = 5000;
  auto* admin_opt = app.add_option("--admin", admin,
                                   std::string{"The admin endpoint (default: $"}
                                     + admin_env + ", else " + default_admin + ")");
  admin_opt->type_name("HOST:PORT");
  app.add_flag("--json", as_json, "Print the endpoint's JSON instead of tables");
  app
    .add_option("--timeout-ms", timeout_ms,
                "Wait at most N ms for each answer (default 5000)")
    ->transform(count_in(1, 86'400'000))
    ->type_name("N");

  std::string model;
  auto add_model = [&](CLI::App* cmd) {
    // An empty name would reach the endpoint as a path without one.
    cmd->add_option("model", model, "The read model's name")
      ->required()
      ->check(bus::app::not_empty("model name"));
  };
  auto* status = app.add_subcommand("status",
                                    "Every model: state, checkpoint, lag, counters");
  auto* lag = app.add_subcommand("lag", "How far behind the log's head each model is");
  auto* health = app.add_subcommand(
    "health",
    "Healthy (exit 0) when every model is running, catching up or restoring, else exit 4");
  auto* pause = app.add_subcommand(
    "pause", "Pause a model: it takes no events and answers from its frozen state");
  auto* resume = app.add_subcommand("resume",
                                    "Resume a paused model (answers once caught up)");
  auto* restart = app.add_subcommand(
    "restart", "Restart a model's projector (answers once caught up)");
  for (auto* cmd : {pause, resume, restart})
    add_model(cmd);

  rebuild_options rebuild_opts;
  bool no_wait = false;
  auto* rebuild = app.add_subcommand(
    "rebuild",
    "Reproject a model from the log's first event, with progress until caught up");
  add_model(rebuild);
  rebuild->add_flag("--no-wait", no_wait, "Return once the rebuild has started");

  std::optional<std::int64_t> seq;
  auto* parked = app.add_subcommand("parked", "List a model's parked (poison) events");
  add_model(parked);
  auto* retry = app.add_subcommand(
    "retry", "Retry a parked event and those of its key behind it (no SEQ: all)");
  auto* discard = app.add_subcommand(
    "discard", "Drop a parked event for good (no SEQ: all of the model's)");
  for (auto* cmd : {retry, discard}) {
    add_model(cmd);
    cmd->add_option("seq", seq, "The parked event's seq")
      ->transform(count_in(1, INT64_MAX))
      ->type_name("SEQ");
  }

  std::int64_t from = 1;
  std::int64_t limit = 100;
  bool full = false;
  auto* events = app.add_subcommand("events", "Browse the log (bus node only)");
  events->add_option("--from", from, "The first seq (default 1)")
    ->transform(count_in(1, INT64_MAX))
    ->type_name("SEQ");
  events->add_option("--limit", limit, "Events per page, 1 to 1000 (default 100)")
    ->transform(count_in(1, 1000))
    ->type_name("N");
  events->add_flag("--full", full,
                   "Print whole payloads (default: cut to 80 characters)");

  watch_options watch_opts;
  double interval_s = 1;
  auto* watch = app.add_subcommand(
    "watch", "The status, refreshed with each model's throughput, until Ctrl-C");
  watch->add_option("--interval", interval_s, "Seconds between refreshes (default 1)")
    ->check(positive_seconds);
  watch->add_option("--count", watch_opts.count, "Stop after N refreshes")
    ->transform(count_in(1, INT64_MAX))
    ->type_name("N");

  // CLI11 takes an unknown command for an extra argument and says only
  // that a command is required: name it, and the commands there are.
  if (auto unknown = unknown_command(app, argc, argv)) {
    std::string names;
    for (auto* cmd : app.get_subcommands({}))
      names += (names.empty() ? "" : ", ") + cmd->get_name();
    return cli.usage_error("unknown command '" + *unknown + "' (the commands: " + names
                           + ")");
  }
  if (auto done = cli.parse(argc, argv))
    return *done; // 0 after --help or --version, 2 after a bad option

  // --admin, else the environment, else the default.
  std::string source = "--admin";
  if (admin_opt->count() == 0) {
    auto* env = std::getenv(admin_env);
    admin = env != nullptr && *env != '\0' ? env : default_admin;
    source = env != nullptr && *env != '\0' ? admin_env : "the default address";
  }
  auto at = bus::parse_endpoint(admin);
  if (!at)
    return cli.usage_error(source + ": " + bus::context_of(at.error()));
  // A node given port 0 picked one: it logs which on its stderr.
  if (at->port == 0)
    return cli.usage_error(source
                           + ": port 0 names no endpoint: give the port "
                             "the node reported (\"admin endpoint on ...\")");
  admin_client client{*at, std::chrono::milliseconds{timeout_ms}};
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
      watch_opts.interval = std::chrono::milliseconds{
        static_cast<std::int64_t>(interval_s * 1000)};
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
