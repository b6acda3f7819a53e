#pragma once

// A string-keyed hash map for the read models' hot paths: open addressing
// (Boost's flat map: keys, values and probe metadata in one array, so a
// lookup touches one or two cache lines instead of walking heap nodes),
// keys kept in the slots (compact_string: up to 31 bytes in place), and
// lookup by std::string_view without building a key, and growth without a
// stall (bus/growing_map.hpp). References and iterators are invalidated by
// inserts, as in std::vector.

#include "bus/growing_map.hpp"
#include "compact_string.hpp"

namespace bus::internal {

/// A hash map from strings to V that finds, erases and counts by
/// std::string_view.
template <class V>
using string_map = growing_map<compact_string, V, bus::string_hash, bus::string_equal>;

} // namespace bus::internal
