#include "scratch_dir.hpp"

#include <system_error>

#include <unistd.h>

namespace bench {

scratch_dir::scratch_dir(const std::filesystem::path& parent)
  : path_(parent / ("bus-bench-" + std::to_string(::getpid()))) {
  std::error_code err;
  // A directory left by a killed run whose pid came round again holds
  // nothing anyone needs.
  std::filesystem::remove_all(path_, err);
  if (!std::filesystem::create_directory(path_, err))
    error_ = "cannot create " + path_.string() + " under --store-dir: "
             + (err ? err.message() : std::string{"it exists"});
}

scratch_dir::~scratch_dir() {
  if (!error_.empty())
    return;
  std::error_code ignored; // nothing to do about a directory that will not go
  std::filesystem::remove_all(path_, ignored);
}

} // namespace bench
