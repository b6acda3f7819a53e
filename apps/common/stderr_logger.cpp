#include "stderr_logger.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace bus::app {

namespace {

std::string utc_now() {
  using namespace std::chrono;
  auto now = system_clock::now();
  auto secs = system_clock::to_time_t(now);
  auto millis = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm parts{};
  gmtime_r(&secs, &parts);
  char text[32];
  auto n = std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &parts);
  std::snprintf(text + n, sizeof(text) - n, ".%03dZ", static_cast<int>(millis));
  return text;
}

// Fixed width, so that the messages of a text log line up.
const char* text_level(log_level level) {
  switch (level) {
    case log_level::trace:
      return "TRACE";
    case log_level::debug:
      return "DEBUG";
    case log_level::info:
      return "INFO ";
    case log_level::warning:
      return "WARN ";
    case log_level::error:
      return "ERROR";
    case log_level::off:
      break;
  }
  return "?    ";
}

} // namespace

std::string format_record(log_format format, const std::string& time,
                          const log_record& record) {
  if (format == log_format::json) {
    boost::json::object line;
    line["time"] = time;
    line["level"] = to_string(record.level);
    line["source"] = record.source;
    line["message"] = record.message;
    return boost::json::serialize(line);
  }
  std::string line;
  line.reserve(time.size() + record.source.size() + record.message.size() + 10);
  line += time;
  line += ' ';
  line += text_level(record.level);
  line += ' ';
  line += record.source;
  line += ": ";
  line += record.message;
  return line;
}

void start_logging(log_format format, log_level level) {
  set_log_level(level);
  set_log_sink([format](const log_record& record) {
    auto line = format_record(format, utc_now(), record);
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stderr);
  });
}

} // namespace bus::app
