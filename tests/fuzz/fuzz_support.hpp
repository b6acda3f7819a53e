#pragma once

// What every fuzz target shares. A target is one LLVMFuzzerTestOneInput:
// with BUS_FUZZ=ON it links libFuzzer, otherwise replay_main.cpp, so that
// CTest replays the committed corpus in every build (docs/testing.md).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace bus::fuzz {

/// Aborts (a finding for libFuzzer, a failure for the replay) when `ok` is
/// false: a decoder broke a property it promises, without crashing.
inline void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz property violated: %s\n", what);
    std::abort();
  }
}

/// The input as characters.
inline std::string_view text_of(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

} // namespace bus::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
