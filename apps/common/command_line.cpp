#include "command_line.hpp"

#include <algorithm>
#include <iostream>

#include "stderr_logger.hpp"

namespace bus::app {

command_line::command_line(std::string name, std::string summary, std::string details)
  : name_(std::move(name)), app_(std::move(summary), name_) {
  app_.footer(std::move(details));
  app_.set_version_flag("--version", name_ + " " + version(),
                        "Print the version and exit");
  app_.set_help_flag("-h,--help", "Print this help and exit");
  // As with most tools, a repeated option takes its last value.
  app_.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app_.get_formatter()->column_width(34);
}

void command_line::add_logging() {
  logging_ = true;
  app_
    .add_option("--log-level", level_text_,
                "Log records at this level and above on stderr (default: info)")
    ->check(one_of({"trace", "debug", "info", "warning", "error", "off"}))
    ->type_name("trace|debug|info|warning|error|off");
  app_
    .add_option("--log-format", format_text_,
                "text: 'TIME LEVEL SOURCE: MESSAGE' lines (default); json: one "
                "object per line with time, level, source and message")
    ->check(one_of({"text", "json"}))
    ->type_name("text|json");
}

std::optional<int> command_line::parse(int argc, char** argv) {
  try {
    app_.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success))
      return app_.exit(e); // --help or --version
    std::cerr << name_ << ": " << e.what() << "\nRun " << name_
              << " --help for the options.\n";
    return 2;
  }
  if (logging_) // both texts were checked against their names
    start_logging(format_text_ == "json" ? log_format::json : log_format::text,
                  parse_log_level(level_text_).value_or(log_level::info));
  return std::nullopt;
}

int command_line::usage_error(const std::string& message) const {
  std::cerr << name_ << ": " << message << "\nRun " << name_
            << " --help for the options.\n";
  return 2;
}

std::optional<int> command_line::needs(const std::string& option,
                                       const std::vector<std::string>& companions) {
  if (app_.count(option) == 0)
    return std::nullopt;
  std::string names;
  for (auto& c : companions) {
    if (app_.count(c) > 0)
      return std::nullopt;
    names += (names.empty() ? "" : " or ") + c;
  }
  return usage_error(option + " applies to " + names + ": pass "
                     + (companions.size() == 1 ? names : "one of them") + " too");
}

CLI::Validator count_in(std::uint64_t min, std::uint64_t max) {
  auto range = std::to_string(min) + " to " + std::to_string(max);
  return CLI::Validator(
    [min, max, range](std::string& text) -> std::string {
      auto bad = "takes a whole number from " + range + ", not '" + text + "'";
      if (text.empty() || text.size() > 20
          || text.find_first_not_of("0123456789") != std::string::npos)
        return bad;
      // CLI11 converts with base 0: drop leading zeros, or "010" is eight.
      auto first = text.find_first_not_of('0');
      auto digits = first == std::string::npos ? std::string{"0"} : text.substr(first);
      errno = 0;
      auto value = std::strtoull(digits.c_str(), nullptr, 10);
      if (errno == ERANGE || value < min || value > max)
        return bad;
      text = digits;
      return {};
    },
    "", "count_in");
}

CLI::Validator not_empty(const std::string& what) {
  return CLI::Validator(
    [what](std::string& text) -> std::string {
      return text.empty() ? "takes a " + what + ", not an empty string" : "";
    },
    "", "not_empty");
}

CLI::Validator one_of(std::vector<std::string> names) {
  std::string list;
  for (auto& n : names)
    list += (list.empty() ? "" : ", ") + n;
  return CLI::Validator(
    [names, list](std::string& text) -> std::string {
      if (std::find(names.begin(), names.end(), text) != names.end())
        return {};
      return "takes one of " + list + ", not '" + text + "'";
    },
    "", "one_of");
}

CLI::Option* add_idle_workers(CLI::App& app, idle_workers& idle) {
  return add_parsed(
           app, "--idle-workers", idle,
           [](const std::string& text) -> caf::expected<idle_workers> {
             if (auto parsed = idle_workers_from_string(text))
               return *parsed;
             return make_error(errc::invalid_config,
                               "takes poll or wake, not '" + text + "'");
           },
           std::string{"What idle scheduler workers do: wake (a worker with a "
                       "second runnable actor wakes a napping one) or poll "
                       "(CAF's own: they nap and poll; default: "}
             + to_string(idle) + ")")
    ->type_name("poll|wake");
}

const char* version() {
  return BUS_VERSION;
}

} // namespace bus::app
