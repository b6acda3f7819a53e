#include "bus/store_location.hpp"

namespace bus {

bool is_postgres_uri(std::string_view location) noexcept {
  auto starts = [&](std::string_view prefix) {
    return location.substr(0, prefix.size()) == prefix;
  };
  return starts("postgresql://") || starts("postgres://");
}

} // namespace bus
