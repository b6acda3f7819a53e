#include "bus/leadership.hpp"

namespace bus {

const char* to_string(lead_state x) noexcept {
  switch (x) {
    case lead_state::leading:
      return "leading";
    case lead_state::unsure:
      return "unsure";
    case lead_state::lost:
      return "lost";
  }
  return "unknown";
}

} // namespace bus
