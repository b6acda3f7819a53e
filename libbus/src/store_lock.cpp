#include "internal/store_lock.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "bus/event_log.hpp"

namespace bus::internal {

namespace {

// The pid the holder wrote into the lock file, "" when it wrote none yet.
std::string recorded_pid(int fd) {
  char buf[32];
  auto n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0)
    return {};
  std::string text{buf, static_cast<std::size_t>(n)};
  auto end = text.find_first_not_of("0123456789");
  return text.substr(0, end);
}

// Why this process cannot create files in the store's directory (its
// journal, WAL, snapshots and model tables go there), "" when it can.
std::string unwritable_directory(const std::string& store_path) {
  auto dir = std::filesystem::path{store_path}.parent_path();
  if (dir.empty())
    dir = ".";
  // AT_EACCESS: as the effective user, who creates the files.
  if (::faccessat(AT_FDCWD, dir.c_str(), W_OK | X_OK, AT_EACCESS) == 0)
    return {};
  return "cannot create files in " + dir.string() + " (" + std::strerror(errno)
         + "): the store keeps its journal, snapshots and model tables beside "
         + store_path;
}

} // namespace

store_lock::store_lock(const std::string& store_path) {
  auto path = store_path + ".lock";
  // Close-on-exec: a program the node starts must not inherit the lock and
  // keep the store locked after the node is gone.
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0)
    throw storage_error("cannot open the lock file " + path + ": "
                        + std::strerror(errno));
  // A lock file left in a directory that is read-only now opens all the
  // same: without this the store would fail later, on its first write.
  if (auto why = unwritable_directory(store_path); !why.empty()) {
    ::close(fd_);
    throw storage_error(why);
  }
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    auto err = errno;
    auto pid = err == EWOULDBLOCK ? recorded_pid(fd_) : std::string{};
    ::close(fd_);
    if (err != EWOULDBLOCK)
      throw storage_error("cannot lock " + path + ": " + std::strerror(err));
    if (pid == std::to_string(::getpid()))
      throw storage_error("the store is in use by another open log of this process "
                          "(pid "
                          + pid + ")");
    throw storage_error("the store is in use by another process"
                        + (pid.empty() ? std::string{} : " (pid " + pid + ")")
                        + ": it holds " + path);
  }
  // For the refusal of the next opener; the lock, not this text, is what
  // counts, so a failed write is no error.
  auto text = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) == 0) {
    [[maybe_unused]] auto written = ::pwrite(fd_, text.data(), text.size(), 0);
  }
}

store_lock::~store_lock() {
  if (fd_ >= 0)
    ::close(fd_);
}

} // namespace bus::internal
