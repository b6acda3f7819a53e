#include "log_growth.hpp"

#include <algorithm>
#include <cstdio>
#include <string>
#include <unordered_set>

#include "bus/memory_log.hpp"

#include "workload.hpp"

namespace bench {

namespace {

constexpr std::size_t log_batch = 256;

struct append_timings {
  double per_second = 0;
  double worst_batch_us = 0;
  double p99_batch_us = 0;
  // After the first 100 k events, as the latency rows give it.
  double steady_worst_batch_us = 0;
  double steady_batches_over_1ms = 0;
};

template <class Append>
append_timings append_all(const std::vector<bus::event>& events, Append append) {
  auto batches = split(events, log_batch);
  std::vector<double> took;
  took.reserve(batches.size());
  auto t0 = clock_type::now();
  auto last = t0;
  for (auto& b : batches) {
    append(std::move(b));
    auto now = clock_type::now();
    took.push_back(std::chrono::duration<double, std::micro>(now - last).count());
    last = now;
  }
  append_timings result;
  result.per_second = per_second(events.size(), seconds_since(t0));
  // Before the percentiles, which sort `took` in place.
  for (std::size_t i = default_keys / log_batch; i < took.size(); ++i) {
    result.steady_worst_batch_us = std::max(result.steady_worst_batch_us, took[i]);
    if (took[i] > 1000)
      ++result.steady_batches_over_1ms;
  }
  auto p = percentiles_of(took);
  result.worst_batch_us = p.max;
  result.p99_batch_us = p.p99;
  return result;
}

append_timings memory_log_appends(const std::vector<bus::event>& events) {
  bus::memory_log log;
  return append_all(events,
                    [&](std::vector<bus::event> b) { log.append(std::move(b)); });
}

// The plain loop: a set of the ids seen and a vector of the events.
append_timings plain_appends(const std::vector<bus::event>& events) {
  std::unordered_set<std::string> ids;
  std::vector<bus::event> kept;
  return append_all(events, [&](std::vector<bus::event> b) {
    for (auto& e : b)
      if (ids.insert(e.id).second)
        kept.push_back(std::move(e));
  });
}

} // namespace

void log_growth(const options& opt, const std::vector<bus::event>& events,
                report& out) {
  std::vector<append_timings> ours, theirs;
  for (std::size_t run = 0; run < opt.runs; ++run) {
    ours.push_back(memory_log_appends(events));
    theirs.push_back(plain_appends(events));
  }
  auto worst = median_of(ours, &append_timings::worst_batch_us);
  auto p99 = median_of(ours, &append_timings::p99_batch_us);
  auto steady = median_of(ours, &append_timings::steady_worst_batch_us);
  auto slow = median_of(ours, &append_timings::steady_batches_over_1ms);
  auto loop_worst = median_of(theirs, &append_timings::worst_batch_us);
  auto loop_p99 = median_of(theirs, &append_timings::p99_batch_us);
  auto loop_steady = median_of(theirs, &append_timings::steady_worst_batch_us);
  auto loop_slow = median_of(theirs, &append_timings::steady_batches_over_1ms);
  out.rate("log_growth",
           "memory log: appends of batches of " + std::to_string(log_batch),
           median_of(ours, &append_timings::per_second),
           median_of(theirs, &append_timings::per_second),
           "std::unordered_set of ids + std::vector of events",
           {{"worst_batch_us", worst},
            {"p99_batch_us", p99},
            {"steady_worst_batch_us", steady},
            {"steady_batches_over_1ms", slow},
            {"loop_worst_batch_us", loop_worst},
            {"loop_p99_batch_us", loop_p99},
            {"loop_steady_worst_batch_us", loop_steady},
            {"loop_steady_batches_over_1ms", loop_slow}},
           "a batch's append: p99 " + millis(p99) + ", worst " + millis(worst)
             + "; after 100 k events: worst " + millis(steady) + ", "
             + std::to_string(static_cast<long>(slow)) + " over 1 ms (loop: "
             + millis(loop_p99) + ", " + millis(loop_worst) + "; " + millis(loop_steady)
             + ", " + std::to_string(static_cast<long>(loop_slow)) + ")");
}

} // namespace bench
