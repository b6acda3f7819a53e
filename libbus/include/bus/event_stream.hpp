#pragma once

// How an event records the stream it belongs to. Streams live in the bus's
// one log (no separate store): an event of stream "order-42" at stream
// version 3 carries, in its metadata,
//
//   {"stream": "order-42", "stream_version": 3, "aggregate": "order"}
//
// and the id "order-42@3". The log appends an id at most once, so a second
// writer of the same stream version can never slip in beside the first:
// its append is a duplicate (the command handler answers it as a
// version conflict). A node that reopens its store learns every stream's
// version by reading these fields back from the log.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "bus/event.hpp"

namespace bus {

/// Where an event stands in its stream.
struct stream_position {
  std::string_view stream;
  std::uint64_t version = 0;
  /// The aggregate type that owns the stream ("" when not recorded).
  std::string_view aggregate;
};

/// Metadata keys of the stream fields.
inline constexpr std::string_view stream_key = "stream";
inline constexpr std::string_view stream_version_key = "stream_version";
inline constexpr std::string_view aggregate_key = "aggregate";

/// Returns the stream position recorded on `e`, or nullopt for an event of
/// no stream (or whose fields are not a non-empty string and a version
/// >= 1). The views point into `e`.
std::optional<stream_position> stream_of(const event& e);

/// Records `stream`, `version` and `aggregate` on `e` (metadata and id).
void stamp_stream(event& e, std::string_view stream, std::uint64_t version,
                  std::string_view aggregate);

/// Returns the id of the event at `version` of `stream`: "stream@version".
std::string stream_event_id(std::string_view stream, std::uint64_t version);

} // namespace bus
