#include "stalls.hpp"

#include <algorithm>

namespace bench {

namespace {

// Microseconds of the run in which more than `left_us` of a machine stall
// remains.
double time_with_more_left(const std::vector<stall>& stalls, double left_us) {
  double sum = 0;
  for (auto& s : stalls)
    if (s.kind == stall_kind::machine)
      sum += std::max(0.0, s.length_us - left_us);
  return sum;
}

} // namespace

const char* to_string(stall_kind x) {
  switch (x) {
    case stall_kind::machine:
      return "machine";
    case stall_kind::kernel_thread:
      return "kernel_thread";
  }
  return "?";
}

double stall_left_at(const std::vector<stall>& stalls, double span_s, double p) {
  auto allowed_us = (1 - p) * span_s * 1e6;
  double lo = 0;
  double hi = 0;
  for (auto& s : stalls)
    if (s.kind == stall_kind::machine)
      hi = std::max(hi, s.length_us);
  if (time_with_more_left(stalls, lo) <= allowed_us)
    return 0;
  // The time with more left shrinks as `left` grows: bisect to 0.1 us.
  while (hi - lo > 0.1) {
    auto mid = (lo + hi) / 2;
    if (time_with_more_left(stalls, mid) > allowed_us)
      lo = mid;
    else
      hi = mid;
  }
  return hi;
}

double stalled_share(const std::vector<stall>& stalls, double span_s) {
  if (span_s <= 0)
    return 0;
  return time_with_more_left(stalls, 0) / (span_s * 1e6);
}

std::vector<double> latencies_clear_of(const std::vector<batch_sample>& batches,
                                       const std::vector<stall>& stalls) {
  std::vector<double> result;
  for (auto& b : batches) {
    auto done_s = b.sent_s + b.latency_us / 1e6;
    auto touched = std::any_of(stalls.begin(), stalls.end(), [&](const stall& s) {
      auto drained_s = s.start_s + 2 * s.length_us / 1e6;
      return s.start_s < done_s && drained_s > b.sent_s;
    });
    if (!touched)
      result.push_back(b.latency_us);
  }
  return result;
}

} // namespace bench
