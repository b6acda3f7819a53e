#pragma once

// A lookup by std::string_view in a string-keyed map that does not
// allocate: C++17 maps have no heterogeneous lookup, so the key is copied
// into a caller-owned scratch string whose capacity is reused.

#include <string>
#include <string_view>

namespace bus::internal {

/// Returns `map.find(key)`, building the key in `scratch`.
template <class Map>
auto find_view(Map& map, std::string_view key, std::string& scratch) {
  scratch.assign(key.data(), key.size());
  return map.find(scratch);
}

} // namespace bus::internal
