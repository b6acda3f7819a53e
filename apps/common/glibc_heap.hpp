#pragma once

// For an app built without jemalloc (-DBUS_JEMALLOC=OFF): glibc's malloc
// maps and unmaps every block of 128 KiB and more and trims its heaps, so
// the kernel faults the same memory in again for the next chunk of input or
// batch of events (some 14 us a page on this project's VM). Keeping such
// blocks in the heap took the remote scenario of bus-bench from 572-741 k
// to 723 k-1.04 M events/s (docs/benchmarks.md, "Projector nodes on
// jemalloc").
// Inline, so that each app's own BUS_JEMALLOC decides.

#ifndef BUS_JEMALLOC
#  include <malloc.h>
#endif

namespace bus::app {

inline void keep_freed_memory_in_heap() {
#ifndef BUS_JEMALLOC
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
#endif
}

} // namespace bus::app
