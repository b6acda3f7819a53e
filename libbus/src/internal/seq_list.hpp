#pragma once

// The processed seqs above a checkpoint as the stores keep them: decimal
// numbers separated by blanks ("17 19 23"), readable in the sqlite3 shell.

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

namespace bus::internal {

inline std::string join_seqs(const std::vector<std::uint64_t>& xs) {
  std::string out;
  for (auto x : xs) {
    if (!out.empty())
      out += ' ';
    out += std::to_string(x);
  }
  return out;
}

inline std::vector<std::uint64_t> split_seqs(const std::string& text) {
  std::vector<std::uint64_t> out;
  std::istringstream in{text};
  std::uint64_t x;
  while (in >> x)
    out.push_back(x);
  return out;
}

} // namespace bus::internal
