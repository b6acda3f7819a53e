#pragma once

// Lets Boost.Test print model states and roles in failed checks, by name.

#include <ostream>

#include "bus/actors/model_state.hpp"

namespace bus::actors {

inline std::ostream& boost_test_print_type(std::ostream& out, model_state x) {
  return out << to_string(x);
}

inline std::ostream& boost_test_print_type(std::ostream& out, model_role x) {
  return out << to_string(x);
}

} // namespace bus::actors
