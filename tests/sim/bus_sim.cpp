// bus-sim: runs the seeded simulator over many seeds, or replays one.
//
//   bus-sim --seeds N [--from S]      one line per failing seed and invariant,
//                                     then a summary
//   bus-sim --seed S [--trace]        replays one seed (shrunk with --trace)
//   --without FAULT                   never inject FAULT (repeatable)
//   --ignore INVARIANT                do not check INVARIANT (repeatable)
//   --steps N                         step budget per seed (default 40)

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>

#include <unistd.h>

#include "bus/sim/simulator.hpp"

namespace {

int usage() {
  std::cerr << "usage: bus-sim (--seeds N [--from S] | --seed S [--trace])\n"
               "               [--without FAULT]... [--ignore INVARIANT]... "
               "[--steps N]\n";
  return 2;
}

// The files of this process's runs still on disk.
std::size_t leftover_files() {
  auto prefix = "bus-sim-" + std::to_string(::getpid()) + "-";
  std::size_t n = 0;
  std::error_code ec;
  for (auto dir :
       {std::filesystem::path{"/dev/shm"}, std::filesystem::temp_directory_path()})
    for (std::filesystem::directory_iterator i{dir, ec}, end; !ec && i != end;
         i.increment(ec))
      if (i->path().filename().string().rfind(prefix, 0) == 0)
        ++n;
  return n;
}

} // namespace

int main(int argc, char** argv) {
  using namespace bus::sim;
  sim_options options;
  std::uint64_t from = 1;
  std::uint64_t count = 0;
  std::optional<std::uint64_t> one;
  bool trace = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (arg == "--seeds") {
      count = std::strtoull(next().c_str(), nullptr, 10);
    } else if (arg == "--from") {
      from = std::strtoull(next().c_str(), nullptr, 10);
    } else if (arg == "--seed") {
      one = std::strtoull(next().c_str(), nullptr, 10);
    } else if (arg == "--trace") {
      trace = true;
    } else if (arg == "--steps") {
      options.steps = std::strtoull(next().c_str(), nullptr, 10);
    } else if (arg == "--without") {
      auto f = fault_from_string(next());
      if (!f)
        return usage();
      options.faults.reset(static_cast<std::size_t>(*f));
    } else if (arg == "--ignore") {
      auto x = invariant_from_string(next());
      if (!x)
        return usage();
      options.checks.reset(static_cast<std::size_t>(*x));
    } else {
      return usage();
    }
  }
  auto models = shop_models();
  if (one) {
    auto result = trace ? shrink(models, options, *one)
                        : simulate(models, options, *one);
    for (auto& line : result.trace)
      std::cout << "  " << line << "\n";
    if (result.failure) {
      std::cout << "seed " << *one << " FAILED " << to_string(result.failure->what)
                << ": " << result.failure->detail << " (after " << result.steps
                << " step(s))\n";
      return 1;
    }
    std::cout << "seed " << *one << " passed (" << result.head << " events)\n";
    return 0;
  }
  if (count == 0)
    return usage();
  std::size_t passed = 0;
  std::map<std::string, std::size_t> per_invariant;
  for (auto seed = from; seed < from + count; ++seed) {
    auto result = simulate(models, options, seed);
    if (!result.failure) {
      ++passed;
      continue;
    }
    for (auto& v : result.violations) {
      ++per_invariant[to_string(v.what)];
      std::cout << "seed " << seed << " " << to_string(v.what) << ": " << v.detail
                << "\n";
    }
  }
  for (auto& [name, n] : per_invariant)
    std::cout << "seeds breaking " << name << ": " << n << "\n";
  std::cout << passed << " passed, " << count - passed << " failed\n";
  // Every run removes its snapshot files (world.cpp names them
  // bus-sim-PID-N.snapshots): thousands of runs follow each other, in
  // memory (/dev/shm) where the system has it.
  auto left = leftover_files();
  if (left > 0)
    std::cout << "the runs left " << left << " snapshot file(s) behind\n";
  return passed == count && left == 0 ? 0 : 1;
}
