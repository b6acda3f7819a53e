#pragma once

// The seqs of a list of parked events, for comparing what a lot or a store
// holds with what a test expects.

#include <cstdint>
#include <vector>

#include "bus/parked_event.hpp"

namespace bus::test {

using seq_list = std::vector<std::uint64_t>;

/// Returns the seq of each entry of `xs`, in order.
inline seq_list seqs(const std::vector<parked_event>& xs) {
  seq_list out;
  for (auto& x : xs)
    out.push_back(x.seq());
  return out;
}

} // namespace bus::test
