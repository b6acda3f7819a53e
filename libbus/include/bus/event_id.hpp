#pragma once

// Rules for ids the publisher did not give.
//
// A protocol client may send an event without an id; the node then derives
// one from the payload (`evt-` plus what follows the last '-' of payload.id,
// as seed 000 does). A redelivery of the same event must map to the same id,
// and a different event that derives the same id must not be taken for it.
// The log settles this by content: the first event to claim a derived id
// keeps it; a different event (other type or payload) that derives the same
// base gets `<base>-<16 hex digits of its content fingerprint>`, which again
// is the same for every redelivery of that event.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/fwd.hpp>

namespace bus {

/// Derives the base id of an event from its payload: "evt-" plus what
/// follows the last '-' of payload.id ("user-123" -> "evt-123"; an id
/// without '-' is used whole; an integer is used in decimal, so -5 gives
/// "evt-5"). Returns nothing when payload.id is missing, empty, or neither a
/// string nor an integer.
std::optional<std::string> derive_event_id(const boost::json::object& payload);

class event_payload;

/// The same, reading payload.id as a field: a payload still in its record
/// stays there.
std::optional<std::string> derive_event_id(const event_payload& payload);

/// Returns a 64-bit fingerprint of an event's type and payload that does not
/// depend on the order of object keys (FNV-1a over a canonical form).
std::uint64_t content_fingerprint(std::string_view type,
                                  const boost::json::object& payload);

/// Returns the id that an event whose base id `base` is taken by different
/// content gets: `base` + "-" + 16 hex digits of `fingerprint`, plus "-N"
/// for the (astronomically unlikely) N-th further collision.
std::string alternate_event_id(std::string_view base, std::uint64_t fingerprint,
                               unsigned attempt);

} // namespace bus
