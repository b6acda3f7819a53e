#pragma once

// Page faults taken by the calling thread, for tests of memory that should
// be faulted in elsewhere (page_warmer, id_index).

#include <sys/resource.h>

// AddressSanitizer's and ThreadSanitizer's shadow memory take page faults
// of their own on the first access to fresh memory: counts taken under
// them are not the code's.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#  define BUS_TEST_SHADOW_FAULTS 1
#elif defined(__has_feature)
#  if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#    define BUS_TEST_SHADOW_FAULTS 1
#  endif
#endif

namespace bus::test {

/// Returns the page faults (minor and major) the calling thread has taken.
inline long thread_page_faults() {
  rusage usage{};
  ::getrusage(RUSAGE_THREAD, &usage);
  return usage.ru_minflt + usage.ru_majflt;
}

} // namespace bus::test
