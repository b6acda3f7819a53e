// Runs a fuzz target once on every file named on the command line (a
// directory: every file under it, in name order), as libFuzzer does with
// -runs=0, for builds without libFuzzer. A finding aborts the process, so
// CTest sees the failure; the file being run is printed first.

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz_support.hpp"

namespace fs = std::filesystem;

namespace {

void collect(const fs::path& p, std::vector<fs::path>& out) {
  if (fs::is_directory(p)) {
    for (auto& entry : fs::recursive_directory_iterator(p))
      if (entry.is_regular_file())
        out.push_back(entry.path());
  } else {
    out.push_back(p);
  }
}

} // namespace

int main(int argc, char** argv) {
  std::vector<fs::path> files;
  for (int i = 1; i < argc; ++i) {
    if (!fs::exists(argv[i])) {
      std::fprintf(stderr, "replay: %s does not exist\n", argv[i]);
      return 2;
    }
    collect(argv[i], files);
  }
  std::sort(files.begin(), files.end());
  for (auto& file : files) {
    std::ifstream in{file, std::ios::binary};
    std::string bytes{std::istreambuf_iterator<char>{in}, {}};
    std::fprintf(stderr, "replay: %s (%zu bytes)\n", file.c_str(), bytes.size());
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()),
                           bytes.size());
  }
  std::printf("replay: %zu inputs, no finding\n", files.size());
  return 0;
}
