#pragma once

// What a projector does when its read model throws on an event: try again a
// few times with backoff (a failure may be transient, a lookup that timed
// out), then either park the event in the model's dead-letter store and go
// on (parking_lot.hpp), or stop the model as before this policy existed.
// Plain data: the projector reads it, the configuration fills it.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace bus {

/// What happens to an event that still fails after every attempt.
enum class on_poison {
  /// Park the event (with its error) and go on with the next one.
  park,
  /// Fail the model, as a model without a policy did: the supervisor
  /// restarts it and, once its restart budget is spent, leaves it failed.
  stop,
};

/// Returns "park" or "stop".
const char* to_string(on_poison x) noexcept;

/// Parses "park" or "stop".
std::optional<on_poison> on_poison_from_string(std::string_view x) noexcept;

/// Which later events wait for a parked one.
enum class key_order {
  /// The later events of a parked event's key (read_model::key_of) are
  /// parked behind it, so that a key is never applied out of order; other
  /// keys go on.
  per_key,
  /// Nothing waits: the model's events are independent of each other.
  none,
};

/// Returns "per_key" or "none".
const char* to_string(key_order x) noexcept;

/// Parses "per_key" or "none".
std::optional<key_order> key_order_from_string(std::string_view x) noexcept;

/// A read model's policy for events its apply() throws on.
struct recovery_policy {
  /// Applies of one event in all, the first included (at least 1), before
  /// `then` decides its fate.
  std::uint32_t attempts = 3;
  /// Delay before the second attempt; doubled for each further one.
  std::chrono::milliseconds backoff{100};
  /// Upper bound of the delay.
  std::chrono::milliseconds max_backoff{5000};
  /// What happens after the last attempt failed.
  on_poison then = on_poison::park;
  /// Which later events wait for a parked one.
  key_order order = key_order::per_key;

  /// Returns the delay before attempt `attempt` (2 for the first retry):
  /// `backoff * 2^(attempt - 2)`, at most `max_backoff`; zero for the first
  /// attempt.
  std::chrono::milliseconds delay_before(std::uint32_t attempt) const noexcept;
};

} // namespace bus
