#pragma once

// The demo's generated event stream: a small shop with users and orders,
// where a share of the events is delivered twice (as an at-least-once
// producer would after a lost acknowledgement).

#include <cstdint>
#include <vector>

#include "bus/event.hpp"

namespace demo {

struct stream_options {
  std::size_t events = 200000;
  std::size_t users = 2000;
  /// Percentage of deliveries that repeat an earlier event.
  unsigned redelivery_percent = 10;
  std::uint64_t seed = 7;
};

/// Returns the deliveries in publish order (redeliveries included).
std::vector<bus::event> make_stream(const stream_options& opts);

} // namespace demo
