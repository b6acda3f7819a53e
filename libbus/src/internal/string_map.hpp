#pragma once

// A string-keyed hash map for the read models' hot paths: open addressing
// (Boost's flat map: keys, values and probe metadata in one array, so a
// lookup touches one or two cache lines instead of walking heap nodes),
// keys kept in the slots (compact_string: up to 31 bytes in place), and
// lookup by std::string_view without building a key, and growth without a
// stall (bus/growing_map.hpp). References and iterators are invalidated by
// inserts, as in std::vector.

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "bus/growing_map.hpp"
#include "compact_string.hpp"

namespace bus::internal {

/// Hashes std::string and std::string_view alike (transparent).
struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

/// Compares std::string and std::string_view alike (transparent).
struct string_equal {
  using is_transparent = void;
  bool operator()(std::string_view x, std::string_view y) const noexcept {
    return x == y;
  }
};

/// A hash map from strings to V that finds, erases and counts by
/// std::string_view.
template <class V>
using string_map = growing_map<compact_string, V, string_hash, string_equal>;

} // namespace bus::internal
