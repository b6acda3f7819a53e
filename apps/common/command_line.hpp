#pragma once

// The command line of every app: CLI11, with what the apps share: --help
// and --version, --log-level and --log-format for those that log, the
// --opt=value form, the last of a repeated option winning, and one rule for
// bad input (a message naming the option on stderr, exit status 2).
//
// An app declares its options on app() (one add_option per option), then
// calls parse(); single-threaded, before the actor system starts.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "bus/actors/init.hpp"
#include "bus/errc.hpp"
#include "bus/log.hpp"

namespace bus::app {

/// How the app's log lines look on stderr.
enum class log_format {
  /// "TIME LEVEL SOURCE: MESSAGE", for people.
  text,
  /// One JSON object per line: time, level, source, message.
  json,
};

class command_line {
public:
  /// `name` is the program's ("bus-node"); `summary` opens the help and
  /// `details` follows the list of options.
  command_line(std::string name, std::string summary, std::string details);

  /// The CLI11 app, to add the app's own options to.
  CLI::App& app() noexcept { return app_; }

  /// Adds --log-level and --log-format; parse() then makes the app's
  /// logger (stderr_logger.hpp) the library's log sink.
  void add_logging();

  /// Parses the command line. Returns the exit status when the program is
  /// done (0 after --help or --version, which print to stdout; 2 after a bad
  /// option, reported on stderr), nullopt when it should run.
  std::optional<int> parse(int argc, char** argv);

  /// Reports a bad combination of options found after parse(): "NAME:
  /// MESSAGE" and a pointer to --help on stderr. Returns 2, the status.
  int usage_error(const std::string& message) const;

  /// Refuses `option` (after parse()) when it was given without any of
  /// `companions`: it applies only to them, and alone would change nothing
  /// ("--durability applies to --store: pass --store too"). Returns the
  /// status (2) then, nullopt otherwise.
  std::optional<int> needs(const std::string& option,
                           const std::vector<std::string>& companions);

  const std::string& name() const noexcept { return name_; }

private:
  std::string name_;
  CLI::App app_;
  bool logging_ = false;
  std::string level_text_ = "info";
  std::string format_text_ = "text";
};

/// Checks (and normalises, for CLI11's conversion) a whole number written
/// in decimal digits from `min` to `max`: no sign, no other base ("010" is
/// ten), nothing after it. The message names the range.
CLI::Validator count_in(std::uint64_t min, std::uint64_t max);

/// Checks that the text is not empty: `--store=` is no path, and must not
/// stand for the default. `what` names the value ("PATH").
CLI::Validator not_empty(const std::string& what);

/// Checks that the text is one of `names` (for a list option: each item).
CLI::Validator one_of(std::vector<std::string> names);

/// Adds an option whose text `parse` turns into `out`: `parse` returns a
/// caf::expected (bus::parse_endpoint, bus::parse_durability), and its error
/// is reported as a bad value of the option. `on_set` runs after a success.
template <class T, class Parse, class OnSet = void (*)()>
CLI::Option* add_parsed(
  CLI::App& app, const std::string& name, T& out, Parse parse,
  const std::string& description, OnSet on_set = [] {}) {
  return app.add_option_function<std::string>(
    name,
    [&out, parse, name, on_set](const std::string& text) {
      auto parsed = parse(text);
      if (!parsed)
        throw CLI::ValidationError(name, context_of(parsed.error()));
      out = std::move(*parsed);
      on_set();
    },
    description);
}

/// Adds --idle-workers poll|wake: what the scheduler's idle workers do
/// (bus::idle_workers; `idle` holds the default).
CLI::Option* add_idle_workers(CLI::App& app, idle_workers& idle);

/// The project's version (CMake's project(VERSION)), e.g. "0.1.0".
const char* version();

} // namespace bus::app
