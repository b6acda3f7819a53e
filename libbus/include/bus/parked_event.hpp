#pragma once

// One entry of a read model's dead-letter store: an event the model did not
// apply, either because apply() kept throwing on it (reason `failed`) or
// because an earlier event of its key is parked (reason `behind`), and its
// JSON form, which the stores keep (snapshot_store, model_table) and an
// operator reads with the sqlite3 shell:
//   {"event": {...event_codec form...}, "key": "u1" | null,
//    "reason": "failed" | "behind", "error": "...", "behind": 17,
//    "attempts": 3, "parked_at": 1700000000000}

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <caf/expected.hpp>

#include "bus/event.hpp"

namespace bus {

/// Why an event is parked.
enum class park_reason {
  /// apply() threw on it after every attempt of the model's policy.
  failed,
  /// An earlier event of its key is parked: it waits, never tried, so that
  /// its key is not applied out of order.
  behind,
};

/// Returns "failed" or "behind".
const char* to_string(park_reason x) noexcept;

/// Parses "failed" or "behind".
std::optional<park_reason> park_reason_from_string(std::string_view x) noexcept;

/// An event that a read model did not apply, with why.
struct parked_event {
  /// The event as the log delivered it.
  bus::event event;
  /// Its key (read_model::key_of); nothing when the model has no key for it.
  std::optional<std::string> key;
  /// Why it is parked.
  park_reason reason = park_reason::failed;
  /// What apply() threw the last time (reason `failed`).
  std::string error;
  /// The seq of the parked event of the same key it waited for when it was
  /// parked (reason `behind`); 0 otherwise.
  std::uint64_t behind = 0;
  /// Applies tried so far (0 for an event parked behind another).
  std::uint32_t attempts = 0;
  /// When it was parked, in milliseconds since the Unix epoch.
  std::int64_t parked_at = 0;

  /// Returns the event's seq, which identifies the entry.
  std::uint64_t seq() const noexcept { return event.seq; }
};

/// Returns the current time in milliseconds since the Unix epoch (for
/// parked_at).
std::int64_t now_ms() noexcept;

/// Encodes `x` as a JSON object (the form above).
boost::json::object to_json(const parked_event& x);

/// Decodes a parked event; fails with errc::invalid_event naming the field.
caf::expected<parked_event> parked_event_from_json(const boost::json::value& v);

/// Encodes entries as the text of a JSON array (a snapshot's `parked`).
std::string parked_events_text(const std::vector<parked_event>& xs);

/// Decodes what parked_events_text() wrote; "" is an empty list (a store
/// written before parking existed).
caf::expected<std::vector<parked_event>> parked_events_from_text(std::string_view text);

} // namespace bus
