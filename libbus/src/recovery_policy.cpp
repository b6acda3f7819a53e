#include "bus/recovery_policy.hpp"

#include <algorithm>

namespace bus {

const char* to_string(on_poison x) noexcept {
  switch (x) {
    case on_poison::park:
      return "park";
    case on_poison::stop:
      return "stop";
  }
  return "unknown";
}

std::optional<on_poison> on_poison_from_string(std::string_view x) noexcept {
  for (auto v : {on_poison::park, on_poison::stop})
    if (x == to_string(v))
      return v;
  return std::nullopt;
}

const char* to_string(key_order x) noexcept {
  switch (x) {
    case key_order::per_key:
      return "per_key";
    case key_order::none:
      return "none";
  }
  return "unknown";
}

std::optional<key_order> key_order_from_string(std::string_view x) noexcept {
  for (auto v : {key_order::per_key, key_order::none})
    if (x == to_string(v))
      return v;
  return std::nullopt;
}

std::chrono::milliseconds
recovery_policy::delay_before(std::uint32_t attempt) const noexcept {
  if (attempt < 2)
    return std::chrono::milliseconds{0};
  auto delay = std::min(backoff, max_backoff);
  // Doubling stops at the bound (or at zero), so a large attempt count
  // neither overflows nor loops for long.
  for (std::uint32_t i = 2; i < attempt && delay.count() > 0; ++i) {
    if (delay >= max_backoff / 2)
      return max_backoff;
    delay *= 2;
  }
  return delay;
}

} // namespace bus
