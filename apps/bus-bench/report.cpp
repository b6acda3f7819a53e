#include "report.hpp"

#include <algorithm>
#include <cstdio>
#include <iostream>

#include <boost/json/serialize.hpp>

#include "allocator.hpp"
#include "harness.hpp"

namespace bench {

percentiles percentiles_of(std::vector<double>& xs) {
  percentiles result;
  if (xs.empty())
    return result;
  std::sort(xs.begin(), xs.end());
  auto at = [&](double p) {
    return xs[std::min(xs.size() - 1,
                       static_cast<std::size_t>(p * static_cast<double>(xs.size())))];
  };
  result.p50 = at(0.50);
  result.p99 = at(0.99);
  result.max = xs.back();
  result.samples = xs.size();
  return result;
}

const char* to_string(floor_priority x) {
  switch (x) {
    case floor_priority::realtime:
      return "realtime";
    case floor_priority::normal:
      return "normal";
  }
  return "?";
}

namespace {

boost::json::object to_json(const percentiles& x) {
  return {{"p50", x.p50}, {"p99", x.p99}, {"max", x.max}, {"samples", x.samples}};
}

// The stalls of a floor measure, summed up.
struct stall_summary {
  std::size_t count = 0;
  double per_s = 0;
  double share = 0;
  double longest_us = 0;
  double left_p99_us = 0;

  floor_priority priority;
  // The kernel threads' bursts.
  std::size_t bursts = 0;
  double burst_cpu_us = 0;
  double longest_burst_us = 0;
  std::vector<kernel_thread_watch::usage> kernel_threads;

  explicit stall_summary(const floor_measure& floor)
    : share(stalled_share(floor.stalls, floor.span_s)),
      left_p99_us(stall_left_at(floor.stalls, floor.span_s, 0.99)),
      priority(floor.priority),
      kernel_threads(floor.kernel_threads) {
    for (auto& s : floor.stalls) {
      switch (s.kind) {
        case stall_kind::machine:
          ++count;
          longest_us = std::max(longest_us, s.length_us);
          break;
        case stall_kind::kernel_thread:
          ++bursts;
          burst_cpu_us += s.cpu_us;
          longest_burst_us = std::max(longest_burst_us, s.length_us);
          break;
      }
    }
    per_s = floor.span_s > 0 ? static_cast<double>(count) / floor.span_s : 0;
  }

  boost::json::object to_json() const {
    boost::json::array threads;
    for (auto& t : kernel_threads)
      threads.push_back(boost::json::object{{"name", t.name}, {"ran_us", t.ran_us}});
    return {{"threshold_us", stall_threshold_us},
            {"count", count},
            {"per_s", per_s},
            {"share", share},
            {"longest_us", longest_us},
            {"left_p99_us", left_p99_us},
            {"sleeper_priority", to_string(priority)},
            {"kernel_bursts", bursts},
            {"kernel_burst_cpu_us", burst_cpu_us},
            {"longest_kernel_burst_us", longest_burst_us},
            {"kernel_threads", std::move(threads)}};
  }

  // Two lines: the machine's stalls (the caller ends the first) and the
  // kernel threads.
  void print_kernel_threads() const {
    std::printf("%-44s kernel threads meanwhile:", "");
    for (auto& t : kernel_threads)
      std::printf(" %s %.1f ms", t.name.c_str(), t.ran_us / 1000);
    std::printf("; %zu bursts of >= %.0f ms of CPU (%.1f ms in all, the longest over "
                "%.1f ms)\n",
                bursts, kernel_burst_threshold_us / 1000, burst_cpu_us / 1000,
                longest_burst_us / 1000);
  }

  void print() const {
    std::printf("%-44s machine stalls >= %.0f ms in the same run (sleeper at %s "
                "priority): %zu (%.1f/s, %.1f%% of the time, longest %.1f ms)",
                "", stall_threshold_us / 1000, to_string(priority), count, per_s,
                100 * share, longest_us / 1000);
  }
};

} // namespace

report::report(bool json) : json_(json) {
  // nop
}

void report::header(std::size_t events, std::size_t batch_size, std::size_t runs,
                    unsigned cores, const std::string& idle_workers,
                    const std::string& label) {
  doc_["bus_bench"] = 1;
  doc_["events"] = events;
  doc_["batch_size"] = batch_size;
  doc_["runs"] = runs;
  doc_["cores"] = cores;
  doc_["idle_workers"] = idle_workers;
  doc_["allocator"] = allocator_name();
  doc_["statistic"] = "median of runs";
  if (!label.empty())
    doc_["label"] = label;
  if (json_)
    return;
  std::printf("bus-bench: %zu events, batches of %zu, median of %zu runs, %u cores, "
              "idle workers %s, %s\n\n",
              events, batch_size, runs, cores, idle_workers.c_str(), allocator_name());
  std::printf("%-44s %12s   %12s   %6s\n", "scenario", "bus", "plain loop", "ratio");
  std::fflush(stdout);
}

void report::rate(const std::string& id, const std::string& name, double bus,
                  double loop, const std::string& loop_name, boost::json::object extra,
                  const std::string& note) {
  boost::json::object x{{"id", id},
                        {"name", name},
                        {"events_per_s", bus},
                        {"loop_events_per_s", loop},
                        {"ratio", loop > 0 ? bus / loop : 0.0},
                        {"loop", loop_name}};
  for (auto& kv : extra)
    x[kv.key()] = kv.value();
  results_.push_back(std::move(x));
  if (json_)
    return;
  std::printf("%-44s %12s   %12s   %5.2fx   (loop: %s)\n", name.c_str(),
              bench::rate(bus).c_str(), bench::rate(loop).c_str(),
              loop > 0 ? bus / loop : 0.0, loop_name.c_str());
  if (!note.empty())
    std::printf("%-44s %s\n", "", note.c_str());
  std::fflush(stdout);
}

void report::latency(const std::string& id, const std::string& name, double per_second,
                     std::size_t batch, const latency_split& latency,
                     const floor_measure& floor, double fresh_page_us) {
  auto over = [&](const percentiles& p) {
    return floor.oversleep.p99 > 0 ? p.p99 / floor.oversleep.p99 : 0.0;
  };
  stall_summary stalls{floor};
  auto over_stalls = stalls.left_p99_us > 0 ? latency.steady.p99 / stalls.left_p99_us
                                            : 0.0;
  auto clear = latencies_clear_of(latency.steady_batches, floor.stalls);
  auto clear_latency = percentiles_of(clear);
  results_.push_back(
    boost::json::object{{"id", id},
                        {"name", name},
                        {"offered_events_per_s", per_second},
                        {"batch", batch},
                        {"latency_us", to_json(latency.all)},
                        {"floor_us", to_json(floor.oversleep)},
                        {"p99_over_floor_p99", over(latency.all)},
                        {"warmup_events", latency.warmup_events},
                        {"steady_latency_us", to_json(latency.steady)},
                        {"steady_p99_over_floor_p99", over(latency.steady)},
                        {"stalls", stalls.to_json()},
                        {"steady_p99_over_stall_left_p99", over_stalls},
                        {"clear_latency_us", to_json(clear_latency)},
                        {"fresh_page_us", fresh_page_us}});
  if (json_)
    return;
  std::printf("%-44s p50 %.0f us, p99 %.0f us, max %.0f us (%s, batches of %zu)\n",
              name.c_str(), latency.all.p50, latency.all.p99, latency.all.max,
              bench::rate(per_second).c_str(), batch);
  std::printf("%-44s noise floor in the same run: p50 %.0f us, p99 %.0f us, "
              "max %.0f us; latency p99 = %.1fx floor p99\n",
              "", floor.oversleep.p50, floor.oversleep.p99, floor.oversleep.max,
              over(latency.all));
  std::printf("%-44s after the first %zu k events (the models' keys created): p50 %.0f "
              "us, p99 %.0f us, max %.0f us = %.1fx floor p99; a fresh 4 KiB page "
              "costs %.1f us\n",
              "", latency.warmup_events / 1000, latency.steady.p50, latency.steady.p99,
              latency.steady.max, over(latency.steady), fresh_page_us);
  stalls.print();
  if (over_stalls > 0)
    std::printf("; at a random instant %.0f us of stall is left at p99: steady p99 = "
                "%.1fx that\n",
                stalls.left_p99_us, over_stalls);
  else
    std::printf("; at p99 of instants no stall is left\n");
  stalls.print_kernel_threads();
  std::printf(
    "%-44s steady batches no stall or burst touched (%zu of %zu): p50 %.0f us, p99 %.0f "
    "us, max %.0f us\n",
    "", clear_latency.samples, latency.steady_batches.size(), clear_latency.p50,
    clear_latency.p99, clear_latency.max);
  std::fflush(stdout);
}

void report::floor(const std::string& id, const std::string& name,
                   const floor_measure& floor, double fresh_page_us, double seconds) {
  stall_summary stalls{floor};
  results_.push_back(boost::json::object{{"id", id},
                                         {"name", name},
                                         {"seconds", seconds},
                                         {"floor_us", to_json(floor.oversleep)},
                                         {"stalls", stalls.to_json()},
                                         {"fresh_page_us", fresh_page_us}});
  if (json_)
    return;
  std::printf("%-44s p50 %.0f us, p99 %.0f us, max %.0f us (oversleep of a 100 us "
              "sleep, %zu samples); a fresh 4 KiB page costs %.1f us\n",
              name.c_str(), floor.oversleep.p50, floor.oversleep.p99,
              floor.oversleep.max, floor.oversleep.samples, fresh_page_us);
  stalls.print();
  std::printf("; %.0f us of stall left at p99 of instants\n", stalls.left_p99_us);
  stalls.print_kernel_threads();
  std::fflush(stdout);
}

void report::memory(const std::string& id, const std::string& name, double ours,
                    double theirs, const std::string& theirs_name) {
  results_.push_back(boost::json::object{{"id", id},
                                         {"name", name},
                                         {"bytes_per_event", ours},
                                         {"loop_bytes_per_event", theirs},
                                         {"loop", theirs_name}});
  if (json_)
    return;
  std::printf("%-44s %8.2f B/ev   %8.2f B/ev           (loop: %s)\n", name.c_str(),
              ours, theirs, theirs_name.c_str());
  std::fflush(stdout);
}

void report::skipped(const std::string& id, const std::string& why) {
  results_.push_back(boost::json::object{{"id", id}, {"skipped", why}});
  if (!json_)
    std::printf("%-44s skipped: %s\n", id.c_str(), why.c_str());
}

void report::finish() {
  if (!json_)
    return;
  doc_["results"] = std::move(results_);
  std::cout << boost::json::serialize(doc_) << std::endl;
}

} // namespace bench
