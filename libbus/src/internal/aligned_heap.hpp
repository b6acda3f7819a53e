#pragma once

// Memory from the global heap at any alignment: operator new's aligned form
// only where the default alignment falls short, so that ordinary blocks
// keep the cheaper path. Freed with the same alignment.

#include <cstddef>
#include <new>

namespace bus::internal {

inline bool over_aligned(std::size_t align) noexcept {
  return align > __STDCPP_DEFAULT_NEW_ALIGNMENT__;
}

inline void* heap_allocate(std::size_t bytes, std::size_t align) {
  if (over_aligned(align))
    return ::operator new (bytes, std::align_val_t{align});
  return ::operator new(bytes);
}

inline void heap_deallocate(void* p, std::size_t align) noexcept {
  if (over_aligned(align))
    ::operator delete (p, std::align_val_t{align});
  else
    ::operator delete(p);
}

} // namespace bus::internal
