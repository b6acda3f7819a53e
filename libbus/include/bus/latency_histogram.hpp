#pragma once

// A histogram of durations over fixed buckets, for metrics: publish-to-
// applied latency in projectors, commit and fsync times in the store. One
// observation is a few integer operations and no allocation, so it can sit
// on the publish path; the owner (one actor) needs no lock. The admin
// endpoint renders it in Prometheus' form (cumulative buckets, +Inf, _sum,
// _count); the counts here are per bucket, not cumulative.

#include <array>
#include <chrono>
#include <cstdint>

namespace bus {

class latency_histogram {
public:
  /// Upper bounds of the buckets in nanoseconds (inclusive, as Prometheus'
  /// `le`): 100 µs to 10 s, about three per decade. A last bucket takes
  /// everything above.
  static constexpr std::array<std::int64_t, 16> bounds_ns{
    100'000,       250'000,       500'000,       1'000'000,
    2'500'000,     5'000'000,     10'000'000,    25'000'000,
    50'000'000,    100'000'000,   250'000'000,   500'000'000,
    1'000'000'000, 2'500'000'000, 5'000'000'000, 10'000'000'000};

  /// Observations per bucket: counts[i] for bounds_ns[i], the last for
  /// everything above the last bound (+Inf).
  using counts_type = std::array<std::uint64_t, bounds_ns.size() + 1>;

  /// Records one duration; a negative one (clocks of two machines that
  /// disagree) counts as zero.
  void observe(std::int64_t ns) noexcept;

  void observe(std::chrono::nanoseconds d) noexcept { observe(d.count()); }

  /// Adds every observation of `other`.
  void merge(const latency_histogram& other) noexcept;

  const counts_type& counts() const noexcept { return counts_; }

  /// Number of observations.
  std::uint64_t count() const noexcept { return count_; }

  /// Sum of the observed durations in nanoseconds.
  std::int64_t sum_ns() const noexcept { return sum_ns_; }

  friend bool operator==(const latency_histogram& x,
                         const latency_histogram& y) noexcept {
    return x.counts_ == y.counts_ && x.count_ == y.count_ && x.sum_ns_ == y.sum_ns_;
  }

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, latency_histogram& x) {
    return f(x.counts_, x.count_, x.sum_ns_);
  }

private:
  counts_type counts_{};
  std::uint64_t count_ = 0;
  std::int64_t sum_ns_ = 0;
};

} // namespace bus
