#include "noise_floor.hpp"

#include <chrono>
#include <new>

#include <sys/mman.h>

namespace bench {

namespace {

constexpr auto nap = std::chrono::microseconds{100};

// Enough for minutes of naps: the thread never allocates while it measures.
constexpr std::size_t max_samples = 1 << 21;

} // namespace

noise_floor::noise_floor() {
  oversleep_us_.reserve(max_samples);
  thread_ = std::thread{[this] {
    using clock = std::chrono::steady_clock;
    while (!stopping_.load(std::memory_order_relaxed)
           && oversleep_us_.size() < max_samples) {
      auto t0 = clock::now();
      std::this_thread::sleep_for(nap);
      auto slept = std::chrono::duration<double, std::micro>(clock::now() - t0);
      oversleep_us_.push_back(slept.count() - nap.count());
    }
  }};
}

noise_floor::~noise_floor() {
  stop();
}

percentiles noise_floor::stop() {
  stopping_ = true;
  if (thread_.joinable())
    thread_.join();
  return percentiles_of(oversleep_us_);
}

double fresh_page_us() {
  constexpr std::size_t page = 4096;
  constexpr std::size_t bytes = std::size_t{16} << 20;
  auto t0 = std::chrono::steady_clock::now();
  auto* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
  if (p == MAP_FAILED)
    throw std::bad_alloc{};
  auto* bytes_at = static_cast<volatile char*>(p);
  for (std::size_t i = 0; i < bytes; i += page)
    bytes_at[i] = 1;
  auto elapsed = std::chrono::duration<double, std::micro>(
    std::chrono::steady_clock::now() - t0);
  ::munmap(p, bytes);
  return elapsed.count() / static_cast<double>(bytes / page);
}

} // namespace bench
