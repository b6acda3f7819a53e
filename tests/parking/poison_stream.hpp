#pragma once

// The deterministic stream that bus-poison-child publishes and the crash
// test checks against: which events exist, and which of them each model
// throws on. Shared by the child and the test so that both agree.
//
// Event i has id "ev-<i>", type "Set" (even i) or "Add" (odd i) and payload
// {"id": key, "n": i, "f<i % 3>": i}. A poison event has a key of its own,
// "p<i>": no later event shares it, so nothing parks behind it under
// per-key order, and applying it late (a retry) gives the same state as
// applying it in seq order. The other events cycle through 7 keys.

#include <cstddef>
#include <string>

namespace bus::parking::test {

/// Events in the stream.
constexpr std::size_t stream_size = 400;

/// Events per publish.
constexpr std::size_t batch_size = 4;

/// The memory model ("tally") throws on these events while not fixed.
inline bool tally_poison(std::size_t i) {
  return i % 29 == 11;
}

/// The table model ("listing") throws on these events while not fixed.
inline bool listing_poison(std::size_t i) {
  return i % 31 == 17;
}

inline std::string event_id(std::size_t i) {
  return "ev-" + std::to_string(i);
}

inline std::string event_key(std::size_t i) {
  if (tally_poison(i) || listing_poison(i))
    return "p" + std::to_string(i);
  return "k" + std::to_string(i % 7);
}

} // namespace bus::parking::test
