#include "noise_floor.hpp"

#include <chrono>
#include <new>

#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>

namespace bench {

namespace {

constexpr auto nap = std::chrono::microseconds{100};

// Enough for minutes of naps: the thread never allocates while it measures.
constexpr std::size_t max_samples = 1 << 21;
constexpr std::size_t max_stalls = 1 << 16;

// Kernel threads' CPU time is read every this many naps (about 1 ms): a few
// reads of /proc, some 1% of a core.
constexpr std::size_t polls_every = 10;

// Besides every kdamond, this many of the busiest kernel threads since boot
// are watched.
constexpr std::size_t kernel_threads_watched = 3;

double seconds_of(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

} // namespace

noise_floor::noise_floor() : kernel_threads_(kernel_threads_watched) {
  oversleep_us_.reserve(max_samples);
  stalls_.reserve(max_stalls);
  thread_ = std::thread{[this] {
    // Realtime, so that this process's own busy threads do not delay it:
    // what it then measures is the machine alone.
    sched_param param{};
    param.sched_priority = 1;
    if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &param) == 0)
      priority_ = floor_priority::realtime;
    using clock = std::chrono::steady_clock;
    auto start = clock::now();
    kernel_burst burst;
    auto last_poll_s = seconds_of(start);
    while (!stopping_.load(std::memory_order_relaxed)
           && oversleep_us_.size() < max_samples) {
      auto t0 = clock::now();
      std::this_thread::sleep_for(nap);
      auto woke = clock::now();
      auto slept = std::chrono::duration<double, std::micro>(woke - t0);
      auto over = slept.count() - static_cast<double>(nap.count());
      oversleep_us_.push_back(over);
      if (over >= stall_threshold_us)
        keep({seconds_of(t0 + nap), over, stall_kind::machine, 0});
      if (oversleep_us_.size() % polls_every != 0)
        continue;
      auto now_s = seconds_of(woke);
      if (auto ran = kernel_threads_.poll(); ran > 0) {
        if (burst.cpu_us > 0 && (now_s - burst.last_s) * 1e6 > kernel_burst_gap_us)
          close(burst);
        if (burst.cpu_us == 0)
          burst.start_s = last_poll_s;
        burst.cpu_us += ran;
        burst.last_s = now_s;
      }
      last_poll_s = now_s;
    }
    close(burst);
    span_s_ = std::chrono::duration<double>(clock::now() - start).count();
  }};
}

void noise_floor::keep(const stall& x) {
  if (stalls_.size() < max_stalls)
    stalls_.push_back(x);
}

void noise_floor::close(kernel_burst& burst) {
  if (burst.cpu_us >= kernel_burst_threshold_us)
    keep({burst.start_s, (burst.last_s - burst.start_s) * 1e6,
          stall_kind::kernel_thread, burst.cpu_us});
  burst = kernel_burst{};
}

noise_floor::~noise_floor() {
  stop();
}

floor_measure noise_floor::stop() {
  stopping_ = true;
  if (thread_.joinable())
    thread_.join();
  return {priority_, percentiles_of(oversleep_us_), stalls_, span_s_,
          kernel_threads_.usages()};
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
