#pragma once

// Hashing and comparing string keys, std::string and std::string_view
// alike (transparent): a model's string keys found by std::string_view,
// without building a key. Used by growing_map's callers, and wherever a
// short key is compared per event.

#include <cstddef>
#include <cstdint>
#include <cstring>
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
    // Keys and event types are mostly short: compared a word at a time in
    // place (the first and the last bytes of a size, overlapping), not by
    // a call to memcmp nor byte by byte.
    auto n = x.size();
    if (n != y.size())
      return false;
    auto* a = x.data();
    auto* b = y.data();
    if (n >= 8) {
      if (n > 16)
        return std::memcmp(a, b, n) == 0;
      return ((load<std::uint64_t>(a) ^ load<std::uint64_t>(b))
              | (load<std::uint64_t>(a + n - 8) ^ load<std::uint64_t>(b + n - 8)))
             == 0;
    }
    if (n >= 4)
      return ((load<std::uint32_t>(a) ^ load<std::uint32_t>(b))
              | (load<std::uint32_t>(a + n - 4) ^ load<std::uint32_t>(b + n - 4)))
             == 0;
    if (n >= 2)
      return ((load<std::uint16_t>(a) ^ load<std::uint16_t>(b))
              | (load<std::uint16_t>(a + n - 2) ^ load<std::uint16_t>(b + n - 2)))
             == 0;
    return n == 0 || *a == *b;
  }

private:
  template <class T>
  static T load(const char* p) noexcept {
    T x;
    std::memcpy(&x, p, sizeof x);
    return x;
  }
};

} // namespace bus
