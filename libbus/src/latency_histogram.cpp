#include "bus/latency_histogram.hpp"

#include <algorithm>

namespace bus {

void latency_histogram::observe(std::int64_t ns) noexcept {
  ns = std::max<std::int64_t>(ns, 0);
  auto i = std::lower_bound(bounds_ns.begin(), bounds_ns.end(), ns) - bounds_ns.begin();
  ++counts_[static_cast<std::size_t>(i)];
  ++count_;
  sum_ns_ += ns;
}

void latency_histogram::merge(const latency_histogram& other) noexcept {
  for (std::size_t i = 0; i < counts_.size(); ++i)
    counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ns_ += other.sum_ns_;
}

} // namespace bus
