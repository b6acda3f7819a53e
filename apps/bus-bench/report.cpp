#include "report.hpp"

#include <algorithm>
#include <cstdio>
#include <iostream>

#include <boost/json/serialize.hpp>

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

namespace {

boost::json::object to_json(const percentiles& x) {
  return {{"p50", x.p50}, {"p99", x.p99}, {"max", x.max}, {"samples", x.samples}};
}

} // namespace

report::report(bool json) : json_(json) {
  // nop
}

void report::header(std::size_t events, std::size_t batch_size, std::size_t runs,
                    unsigned cores, const std::string& label) {
  doc_["bus_bench"] = 1;
  doc_["events"] = events;
  doc_["batch_size"] = batch_size;
  doc_["runs"] = runs;
  doc_["cores"] = cores;
  doc_["statistic"] = "median of runs";
  if (!label.empty())
    doc_["label"] = label;
  if (json_)
    return;
  std::printf("bus-bench: %zu events, batches of %zu, median of %zu runs, %u cores\n\n",
              events, batch_size, runs, cores);
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
                     const percentiles& floor, double fresh_page_us) {
  auto over = [&](const percentiles& p) {
    return floor.p99 > 0 ? p.p99 / floor.p99 : 0.0;
  };
  results_.push_back(
    boost::json::object{{"id", id},
                        {"name", name},
                        {"offered_events_per_s", per_second},
                        {"batch", batch},
                        {"latency_us", to_json(latency.all)},
                        {"floor_us", to_json(floor)},
                        {"p99_over_floor_p99", over(latency.all)},
                        {"warmup_events", latency.warmup_events},
                        {"steady_latency_us", to_json(latency.steady)},
                        {"steady_p99_over_floor_p99", over(latency.steady)},
                        {"fresh_page_us", fresh_page_us}});
  if (json_)
    return;
  std::printf("%-44s p50 %.0f us, p99 %.0f us, max %.0f us (%s, batches of %zu)\n",
              name.c_str(), latency.all.p50, latency.all.p99, latency.all.max,
              bench::rate(per_second).c_str(), batch);
  std::printf("%-44s noise floor in the same run: p50 %.0f us, p99 %.0f us, "
              "max %.0f us; latency p99 = %.1fx floor p99\n",
              "", floor.p50, floor.p99, floor.max, over(latency.all));
  std::printf("%-44s after the first %zu k events (the models' keys created): p50 %.0f "
              "us, p99 %.0f us, max %.0f us = %.1fx floor p99; a fresh 4 KiB page "
              "costs %.1f us\n",
              "", latency.warmup_events / 1000, latency.steady.p50, latency.steady.p99,
              latency.steady.max, over(latency.steady), fresh_page_us);
  std::fflush(stdout);
}

void report::floor(const std::string& id, const std::string& name,
                   const percentiles& floor, double fresh_page_us, double seconds) {
  results_.push_back(boost::json::object{{"id", id},
                                         {"name", name},
                                         {"seconds", seconds},
                                         {"floor_us", to_json(floor)},
                                         {"fresh_page_us", fresh_page_us}});
  if (json_)
    return;
  std::printf("%-44s p50 %.0f us, p99 %.0f us, max %.0f us (oversleep of a 100 us "
              "sleep, %zu samples); a fresh 4 KiB page costs %.1f us\n",
              name.c_str(), floor.p50, floor.p99, floor.max, floor.samples,
              fresh_page_us);
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
