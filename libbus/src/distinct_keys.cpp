#include "bus/distinct_keys.hpp"

#include <cmath>

#include "bus/string_keys.hpp"

namespace bus {

void distinct_keys::add(std::string_view key) noexcept {
  add_hash(hash_string(key));
}

std::size_t distinct_keys::estimate() const noexcept {
  constexpr double m = double{1 << bucket_bits};
  double sum = 0;
  std::size_t empty = 0;
  for (auto x : registers_) {
    sum += std::ldexp(1.0, -static_cast<int>(x));
    if (x == 0)
      ++empty;
  }
  auto raw = 0.7213 / (1 + 1.079 / m) * m * m / sum;
  // Few keys leave many buckets empty: counting those (linear counting)
  // is then the better estimate, and exact for a handful.
  if (raw <= 2.5 * m && empty > 0)
    raw = m * std::log(m / static_cast<double>(empty));
  return static_cast<std::size_t>(std::llround(raw));
}

} // namespace bus
