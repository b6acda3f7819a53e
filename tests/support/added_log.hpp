#pragma once

// A memory log filled before any actor starts, for tests on real threads.

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "bus/memory_log.hpp"

namespace bus::test {

/// A log of `n` events "e1".."e<n>" of type "Added", each with payload
/// {"k": "k<i % keys>", "n": 1}.
inline std::shared_ptr<memory_log> added_log(std::size_t n, std::size_t keys) {
  auto log = std::make_shared<memory_log>();
  std::vector<event> events;
  for (std::size_t i = 1; i <= n; ++i) {
    event e;
    e.id = "e" + std::to_string(i);
    e.type = "Added";
    e.payload = {{"k", "k" + std::to_string(i % keys)}, {"n", 1}};
    events.push_back(std::move(e));
  }
  log->append(std::move(events));
  return log;
}

} // namespace bus::test
