#pragma once

// Hashing and comparing string keys, std::string and std::string_view
// alike (transparent): a model's string keys found by std::string_view,
// without building a key. Used by growing_map's callers, and wherever a
// short key is compared per event.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace bus {

namespace detail {

template <class T>
T load_bytes(const char* p) noexcept {
  T x;
  std::memcpy(&x, p, sizeof x);
  return x;
}

// The two halves of x * y, folded: each bit of the result depends on many
// bits of both.
inline std::uint64_t fold_multiply(std::uint64_t x, std::uint64_t y) noexcept {
  __extension__ using wide = unsigned __int128;
  auto p = static_cast<wide>(x) * y;
  return static_cast<std::uint64_t>(p) ^ static_cast<std::uint64_t>(p >> 64);
}

} // namespace detail

/// A 64-bit hash of a string's bytes, every bit of it depending on every
/// byte. Keys and ids are mostly short: they are read a word or two at a
/// time (the first and the last bytes of a size, overlapping) and mixed by
/// two 64x64->128-bit multiplies, about 20 instructions where libstdc++'s
/// MurmurHash2 took 70. Kept in memory only: no store holds these hashes
/// (partitions have a fixed hash of their own, partition_of).
inline std::uint64_t hash_string(std::string_view s) noexcept {
  // Odd constants with bits spread evenly (the golden ratio's, splitmix's).
  constexpr std::uint64_t k0 = 0x9e3779b97f4a7c15ull;
  constexpr std::uint64_t k1 = 0xbf58476d1ce4e5b9ull;
  constexpr std::uint64_t k2 = 0x94d049bb133111ebull;
  using detail::load_bytes;
  auto n = s.size();
  auto* p = s.data();
  std::uint64_t seed = k0 + n;
  std::uint64_t a = 0;
  std::uint64_t b = 0;
  if (n > 16) {
    for (; n > 16; p += 16, n -= 16)
      seed = detail::fold_multiply(load_bytes<std::uint64_t>(p) ^ k1,
                                   load_bytes<std::uint64_t>(p + 8) ^ seed);
    // The last 16 bytes, overlapping the words already mixed.
    a = load_bytes<std::uint64_t>(p + n - 16);
    b = load_bytes<std::uint64_t>(p + n - 8);
  } else if (n >= 8) {
    a = load_bytes<std::uint64_t>(p);
    b = load_bytes<std::uint64_t>(p + n - 8);
  } else if (n >= 4) {
    a = load_bytes<std::uint32_t>(p);
    b = load_bytes<std::uint32_t>(p + n - 4);
  } else if (n > 0) {
    a = std::uint64_t{static_cast<unsigned char>(p[0])} << 16
        | std::uint64_t{static_cast<unsigned char>(p[n / 2])} << 8
        | static_cast<unsigned char>(p[n - 1]);
  }
  return detail::fold_multiply(detail::fold_multiply(a ^ k1, b ^ seed) ^ k2, seed ^ k1);
}

/// Hashes std::string and std::string_view alike (transparent): a model's
/// string keys found by std::string_view, without building a key.
struct string_hash {
  using is_transparent = void;
  // hash_string mixes every byte into its top bits, which place a key in
  // boost's flat tables: no second mix. Rows restored in the order of
  // those bits (row_fold, snapshot_rows.cpp) then fill a model's table
  // front to back.
  using is_avalanching = void;
  std::size_t operator()(std::string_view s) const noexcept { return hash_string(s); }
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
    return detail::load_bytes<T>(p);
  }
};

} // namespace bus
