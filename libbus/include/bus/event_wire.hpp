#pragma once

// The compact binary form in which events cross node boundaries: the same
// records the durable store keeps (libbus/src/internal/event_record.hpp),
// preceded by the events' seqs. Much cheaper than JSON text, and checked
// on decoding: corrupt bytes give an error, never a crash.
//
//   wire := varint(n) varint(seq)*n record*n

#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>

#include "bus/event.hpp"

namespace bus {

/// Encodes the events in [first, last) with their seqs.
std::string encode_events(const event* first, const event* last);

/// Decodes what encode_events made; errc::invalid_event when the bytes are
/// not such an encoding.
caf::expected<std::vector<event>> decode_events(std::string_view bytes);

/// Like decode_events, but leaves the payloads in `bytes`, which the batch
/// keeps (see event_payload.hpp): a node's models read the fields they need
/// and decode nothing else. The same bytes are refused as by decode_events.
caf::expected<event_batch> decode_batch(std::string bytes);

} // namespace bus
