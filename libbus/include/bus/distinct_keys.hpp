#pragma once

// About how many distinct keys a stream of keys held, in a fixed 4 KiB
// (HyperLogLog: each key's hash sets a register to the longest run of
// leading zeros seen in its bucket). A projector's change_recorder counts
// the keys it records, so that its snapshot writer can tell whether
// folding a delta to the last row of each key pays without a pass over
// the rows. Not thread-safe.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace bus {

/// Estimates the number of distinct keys added, within a few percent.
class distinct_keys {
public:
  /// Buckets: 2^12, a standard error of about 1.6 %.
  static constexpr int bucket_bits = 12;

  /// Counts `key` (again: a key added twice counts once).
  void add(std::string_view key) noexcept;

  /// Counts a key by its hash (hash_string of the key, or any hash that
  /// mixes every bit into the top ones).
  void add_hash(std::uint64_t hash) noexcept {
    auto bucket = hash >> (64 - bucket_bits);
    // The bits after the bucket's, with a one below them so that a hash
    // of zeros counts a finite run.
    auto rest = (hash << bucket_bits) | (std::uint64_t{1} << (bucket_bits - 1));
    auto rank = static_cast<std::uint8_t>(__builtin_clzll(rest) + 1);
    if (rank > registers_[bucket])
      registers_[bucket] = rank;
  }

  /// The estimate: within 5 % (three standard errors), and within one or
  /// two below a few hundred keys.
  std::size_t estimate() const noexcept;

  /// Forgets every key.
  void clear() noexcept { registers_.fill(0); }

private:
  std::array<std::uint8_t, std::size_t{1} << bucket_bits> registers_{};
};

} // namespace bus
