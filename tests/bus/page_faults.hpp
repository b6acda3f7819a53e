#pragma once

// Page faults taken by the calling thread, for tests of memory that should
// be faulted in elsewhere (page_warmer, id_index).

#include <sys/resource.h>

namespace bus::test {

/// Returns the page faults (minor and major) the calling thread has taken.
inline long thread_page_faults() {
  rusage usage{};
  ::getrusage(RUSAGE_THREAD, &usage);
  return usage.ru_minflt + usage.ru_majflt;
}

} // namespace bus::test
