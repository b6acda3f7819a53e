#include "internal/store_lock.hpp"

#include <cerrno>
#include <cstring>

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

} // namespace

store_lock::store_lock(const std::string& store_path) {
  auto path = store_path + ".lock";
  // Close-on-exec: a program the node starts must not inherit the lock and
  // keep the store locked after the node is gone.
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0)
    throw storage_error("cannot open the lock file " + path + ": "
                        + std::strerror(errno));
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
