#include "bus/log.hpp"

#include <cstdio>
#include <mutex>
#include <string>

namespace bus {

namespace {

constexpr const char* level_names[] = {"trace",   "debug", "info",
                                       "warning", "error", "off"};

// One line per record, written with a single call so that lines from
// several threads do not interleave.
void default_sink(const log_record& r) {
  std::string line;
  line.reserve(r.source.size() + r.message.size() + 16);
  line += to_string(r.level);
  line += ' ';
  line += r.source;
  line += ": ";
  line += r.message;
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);
}

struct sink_slot {
  std::mutex mtx;
  log_sink sink = default_sink;
};

sink_slot& slot() {
  static sink_slot instance; // built on first use: safe from static init
  return instance;
}

} // namespace

const char* to_string(log_level level) {
  return level_names[static_cast<int>(level)];
}

std::optional<log_level> parse_log_level(std::string_view text) {
  for (int i = 0; i <= static_cast<int>(log_level::off); ++i)
    if (text == level_names[i])
      return static_cast<log_level>(i);
  return std::nullopt;
}

void set_log_sink(log_sink sink) {
  auto& s = slot();
  std::lock_guard<std::mutex> guard{s.mtx};
  s.sink = sink ? std::move(sink) : log_sink{default_sink};
}

void set_log_level(log_level level) {
  detail::log_threshold.store(level, std::memory_order_relaxed);
}

log_level current_log_level() noexcept {
  return detail::log_threshold.load(std::memory_order_relaxed);
}

void log(log_level level, std::string_view source, std::string_view message) {
  if (!log_enabled(level))
    return;
  auto& s = slot();
  std::lock_guard<std::mutex> guard{s.mtx};
  try {
    s.sink(log_record{level, source, message});
  } catch (...) {
    // nop: a failing sink must not take down the actor that logged
  }
}

} // namespace bus
