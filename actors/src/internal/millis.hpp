#pragma once

// Durations as whole milliseconds, for messages and logs.

#include <chrono>
#include <cstdint>

#include <caf/timespan.hpp>

namespace bus::internal {

inline std::int64_t millis(caf::timespan x) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(x).count();
}

} // namespace bus::internal
