#include "bus/latency_histogram.hpp"

#include <algorithm>
#include <limits>

namespace bus {

namespace {

// Adds two sums of latencies, stopping at the largest value: events with
// timestamps decades old would overflow it otherwise. A negative one (only
// another node could send it) counts as zero.
std::int64_t saturating_add(std::int64_t x, std::int64_t y) noexcept {
  constexpr auto most = std::numeric_limits<std::int64_t>::max();
  x = std::max<std::int64_t>(x, 0);
  y = std::max<std::int64_t>(y, 0);
  return x > most - y ? most : x + y;
}

} // namespace

void latency_histogram::observe(std::int64_t ns) noexcept {
  ns = std::max<std::int64_t>(ns, 0);
  // The first bound at or above it: from the smallest, where nearly all
  // observations land (a binary search costs more for them).
  std::size_t i = 0;
  while (i < bounds_ns.size() && bounds_ns[i] < ns)
    ++i;
  ++counts_[i];
  ++count_;
  sum_ns_ = saturating_add(sum_ns_, ns);
}

void latency_histogram::merge(const latency_histogram& other) noexcept {
  for (std::size_t i = 0; i < counts_.size(); ++i)
    counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ns_ = saturating_add(sum_ns_, other.sum_ns_);
}

} // namespace bus
