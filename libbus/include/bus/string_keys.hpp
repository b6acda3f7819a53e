#pragma once

// Hashing and comparing string keys, std::string and std::string_view
// alike (transparent): a model's string keys found by std::string_view,
// without building a key. Used by growing_map's callers, and wherever a
// short key is compared per event.

#include <cstddef>
#include <functional>
#include <string_view>

namespace bus {

/// Hashes std::string and std::string_view alike (transparent): a model's
/// string keys found by std::string_view, without building a key.
struct string_hash {
  using is_transparent = void;
  // std::hash of a string (MurmurHash2 in libstdc++) mixes every byte into
  // its top bits, which place a key in boost's flat tables: no second mix.
  // Rows restored in the order of those bits (row_fold, snapshot_rows.cpp)
  // then fill a model's table front to back.
  using is_avalanching = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

/// Compares std::string and std::string_view alike (transparent).
struct string_equal {
  using is_transparent = void;
  bool operator()(std::string_view x, std::string_view y) const noexcept {
    // Keys are mostly short: compared in place, not by a call to memcmp.
    if (x.size() != y.size())
      return false;
    if (x.size() > 16)
      return x == y;
    for (std::size_t i = 0; i < x.size(); ++i)
      if (x[i] != y[i])
        return false;
    return true;
  }
};

} // namespace bus
