#pragma once

// The library's diagnostics: one process-wide sink with levels. Library
// code (supervisor, projectors, connector) reports through BUS_LOG and never
// writes to std::cerr; an application hands the records to its own logger
// with set_log_sink.
//
// Threading: every function may be called from any thread. Records reach
// the sink one at a time (a mutex serialises them), so a sink needs no lock
// of its own. A record below the threshold costs one relaxed atomic load:
// BUS_LOG does not build its message then.
//
// The default sink writes "LEVEL source: message" lines to stderr, and the
// default threshold is log_level::info.

#include <atomic>
#include <functional>
#include <optional>
#include <sstream>
#include <string_view>

namespace bus {

/// How much a record matters, from least to most. `off` is a threshold
/// only: no record has it.
enum class log_level {
  /// Step-by-step detail for debugging the library itself.
  trace,
  /// Detail an operator rarely needs (connections, phases).
  debug,
  /// Normal events worth a line: a model switched, a restart on request.
  info,
  /// Something failed and is being retried: a model restarting.
  warning,
  /// Something stays broken until someone acts: a model down for good.
  error,
  /// Threshold that lets no record through.
  off,
};

/// Returns "trace", "debug", "info", "warning", "error" or "off".
const char* to_string(log_level level);

/// Parses the names of to_string; nullopt for any other text.
std::optional<log_level> parse_log_level(std::string_view text);

/// One record as a sink receives it; the views live during the call only.
struct log_record {
  log_level level;
  /// The component that wrote it, e.g. "supervisor" or "connector".
  std::string_view source;
  std::string_view message;
};

/// Receives the records at or above the threshold.
using log_sink = std::function<void(const log_record&)>;

/// Replaces the sink; an empty function restores the default (stderr).
void set_log_sink(log_sink sink);

/// Records below `level` are dropped before they are formatted.
void set_log_level(log_level level);

/// The current threshold.
log_level current_log_level() noexcept;

namespace detail {

inline std::atomic<log_level> log_threshold{log_level::info};

} // namespace detail

/// True when a record at `level` would reach the sink.
inline bool log_enabled(log_level level) noexcept {
  return level != log_level::off
         && level >= detail::log_threshold.load(std::memory_order_relaxed);
}

/// Hands one record to the sink if its level is enabled.
void log(log_level level, std::string_view source, std::string_view message);

} // namespace bus

/// Logs `what` (anything that streams into std::ostream, e.g. `"x " << n`)
/// from `source` at `level`; builds the message only if the level is on.
#define BUS_LOG(level, source, what)                                                   \
  do {                                                                                 \
    if (::bus::log_enabled(level)) {                                                   \
      std::ostringstream bus_log_text_;                                                \
      bus_log_text_ << what;                                                           \
      ::bus::log(level, source, bus_log_text_.str());                                  \
    }                                                                                  \
  } while (false)
