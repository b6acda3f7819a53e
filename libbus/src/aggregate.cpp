#include "bus/aggregate.hpp"

namespace bus {

aggregate::~aggregate() {
  // nop
}

} // namespace bus
