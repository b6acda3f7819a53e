#include "allocator.hpp"

#include <cstddef>
#include <cstdint>
#include <dlfcn.h>
#include <malloc.h>

namespace bench {

namespace {

using mallctl_fn = int (*)(const char*, void*, std::size_t*, void*, std::size_t);

// Looked up at run time: a preloaded jemalloc counts too, and bus-bench
// builds without it (-DBUS_JEMALLOC=OFF).
mallctl_fn jemalloc_ctl() {
  static auto fn = reinterpret_cast<mallctl_fn>(dlsym(RTLD_DEFAULT, "mallctl"));
  return fn;
}

} // namespace

const char* allocator_name() {
  return jemalloc_ctl() != nullptr ? "jemalloc" : "glibc malloc";
}

void give_back_free_memory() {
  if (auto ctl = jemalloc_ctl()) {
    // MALLCTL_ARENAS_ALL (4096): every arena's dirty and muzzy pages.
    ctl("arena.4096.purge", nullptr, nullptr, nullptr, 0);
    return;
  }
  malloc_trim(0); // glibc keeps freed blocks of every thread's arena
}

double heap_bytes_in_use() {
  if (auto ctl = jemalloc_ctl()) {
    std::uint64_t epoch = 1; // refreshes the statistics read next
    auto len = sizeof epoch;
    ctl("epoch", &epoch, &len, &epoch, len);
    std::size_t allocated = 0;
    len = sizeof allocated;
    if (ctl("stats.allocated", &allocated, &len, nullptr, 0) != 0)
      return 0;
    return static_cast<double>(allocated);
  }
  return static_cast<double>(mallinfo2().uordblks);
}

} // namespace bench
