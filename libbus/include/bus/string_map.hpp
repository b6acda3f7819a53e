#pragma once

// A string-keyed hash map that can be searched with a std::string_view, so
// that read models look keys up without building temporary strings.

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace bus {

/// Hashes std::string and std::string_view alike.
struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

/// std::unordered_map<std::string, V> with heterogeneous lookup.
template <class V>
using string_map = std::unordered_map<std::string, V, string_hash, std::equal_to<>>;

} // namespace bus
