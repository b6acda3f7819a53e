#pragma once

// The apps' logger: every record, the library's (bus/log.hpp) and the app's
// own, goes to stderr with a UTC timestamp and its level, as a text line or
// a JSON object per line. start_logging makes it the library's sink, so an
// app logs with BUS_LOG or bus::log like the library does. Lines are written
// whole under the library's sink lock: several threads never interleave.

#include "bus/log.hpp"
#include "command_line.hpp"

namespace bus::app {

/// Sets the library's threshold to `level` and its sink to stderr in
/// `format`.
void start_logging(log_format format, log_level level);

/// Formats one record as it goes to stderr, without the final newline;
/// `time` is the UTC timestamp ("2025-01-31T12:00:00.123Z").
std::string format_record(log_format format, const std::string& time,
                          const log_record& record);

} // namespace bus::app
