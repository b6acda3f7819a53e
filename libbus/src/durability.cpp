#include "bus/sqlite_log.hpp"

#include <algorithm>

#include "bus/errc.hpp"

namespace bus {

durability::durability(mode_type mode) noexcept
  : mode_(mode),
    interval_(mode == fsync_interval ? std::chrono::milliseconds{10}
                                     : std::chrono::milliseconds{0}) {
  // nop
}

durability durability::every(std::chrono::milliseconds interval) noexcept {
  durability result{fsync_interval};
  result.interval_ = std::max(interval, std::chrono::milliseconds{1});
  return result;
}

std::string to_string(durability x) {
  switch (x.mode()) {
    case durability::fsync_each_batch:
      return "fsync";
    case durability::os_buffered:
      return "os";
    default:
      return "interval:" + std::to_string(x.interval().count());
  }
}

caf::expected<durability> parse_durability(const std::string& text) {
  if (text == "fsync")
    return durability::fsync_each_batch;
  if (text == "os")
    return durability::os_buffered;
  constexpr std::string_view prefix = "interval:";
  if (text.compare(0, prefix.size(), prefix) == 0) {
    auto digits = text.substr(prefix.size());
    auto all_digits = !digits.empty() && digits.size() <= 5
                      && std::all_of(digits.begin(), digits.end(),
                                     [](char c) { return c >= '0' && c <= '9'; });
    auto ms = all_digits ? std::stol(digits) : 0;
    if (ms >= 1 && ms <= 60000)
      return durability::every(std::chrono::milliseconds{ms});
  }
  return make_error(errc::invalid_config,
                    "durability: expected \"fsync\", \"os\" or \"interval:N\" "
                    "(N: milliseconds, 1 to 60000), got \""
                      + text + "\"");
}

} // namespace bus
