#pragma once

// The directory a bus-bench run keeps its stores and inputs in.

#include <filesystem>
#include <string>

namespace bench {

/// A directory of this process's own under --store-dir, removed with
/// everything in it when the run ends. The scenarios' file names are fixed,
/// so two benches sharing --store-dir (ctest -j2 runs two) would otherwise
/// delete and truncate each other's inputs and stores mid-run.
class scratch_dir {
public:
  /// Creates `parent`/bus-bench-PID; on failure `error()` says why.
  explicit scratch_dir(const std::filesystem::path& parent);

  ~scratch_dir();

  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;

  const std::filesystem::path& path() const noexcept { return path_; }

  /// Empty when the directory exists.
  const std::string& error() const noexcept { return error_; }

private:
  std::filesystem::path path_;
  std::string error_;
};

} // namespace bench
