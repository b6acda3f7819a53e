#include "growth.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <boost/unordered/unordered_flat_map.hpp>

#include "bus/growing_map.hpp"

namespace bench {

namespace {

struct timings {
  double per_second = 0;
  double worst_insert_us = 0;
  double worst_batch_us = 0;
};

constexpr std::size_t batch = 256;

// Inserts "key0".."key<n-1>" into an empty Map, timing each insert.
template <class Map>
timings insert_all(const std::vector<std::string>& keys) {
  Map map;
  std::vector<double> took(keys.size());
  auto t0 = clock_type::now();
  auto last = t0;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    map.try_emplace(keys[i], static_cast<std::int64_t>(i));
    auto now = clock_type::now();
    took[i] = std::chrono::duration<double, std::micro>(now - last).count();
    last = now;
  }
  timings result;
  result.per_second = per_second(keys.size(), seconds_since(t0));
  double window = 0;
  for (std::size_t i = 0; i < took.size(); ++i) {
    result.worst_insert_us = std::max(result.worst_insert_us, took[i]);
    window += took[i];
    if (i >= batch)
      window -= took[i - batch];
    result.worst_batch_us = std::max(result.worst_batch_us, window);
  }
  return result;
}

} // namespace

void growth(const options& opt, report& out) {
  using growing
    = bus::growing_map<std::string, std::int64_t, bus::string_hash, bus::string_equal>;
  using flat = boost::unordered_flat_map<std::string, std::int64_t, bus::string_hash,
                                         bus::string_equal>;
  std::vector<std::string> keys;
  keys.reserve(opt.events);
  for (std::size_t i = 0; i < opt.events; ++i)
    keys.push_back("key" + std::to_string(i));
  std::vector<timings> ours, theirs;
  for (std::size_t run = 0; run < opt.runs; ++run) {
    // Alternating which goes first: the second may reuse memory the first
    // gave back.
    if (run % 2 == 0) {
      ours.push_back(insert_all<growing>(keys));
      theirs.push_back(insert_all<flat>(keys));
    } else {
      theirs.push_back(insert_all<flat>(keys));
      ours.push_back(insert_all<growing>(keys));
    }
  }
  auto worst_ours = median_of(ours, &timings::worst_batch_us);
  auto worst_theirs = median_of(theirs, &timings::worst_batch_us);
  out.rate("growth",
           "a model's table growing to " + std::to_string(opt.events / 1000)
             + " k keys",
           median_of(ours, &timings::per_second),
           median_of(theirs, &timings::per_second), "boost::unordered_flat_map",
           {{"worst_insert_us", median_of(ours, &timings::worst_insert_us)},
            {"loop_worst_insert_us", median_of(theirs, &timings::worst_insert_us)},
            {"worst_256_inserts_us", worst_ours},
            {"loop_worst_256_inserts_us", worst_theirs}},
           "worst 256 inserts in a row: " + millis(worst_ours) + " (flat map "
             + millis(worst_theirs) + "); worst insert "
             + millis(median_of(ours, &timings::worst_insert_us)) + " (flat map "
             + millis(median_of(theirs, &timings::worst_insert_us)) + ")");
}

} // namespace bench
