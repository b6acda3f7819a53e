#pragma once

// A directory of its own under the system's temporary one, removed with
// everything in it when the test ends.

#include <filesystem>
#include <random>
#include <string>
#include <system_error>

namespace bus::test {

struct scratch_dir {
  std::filesystem::path dir;

  explicit scratch_dir(const std::string& prefix = "bus-test-") {
    std::random_device rd;
    dir = std::filesystem::temp_directory_path() / (prefix + std::to_string(rd()));
    std::filesystem::create_directories(dir);
  }

  ~scratch_dir() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;

  /// The path of `file` in it.
  std::string file(const std::string& name) const { return (dir / name).string(); }
};

} // namespace bus::test
