#include "line_reader.hpp"

#include <cerrno>
#include <cstring>

#include <unistd.h>

namespace bus::node {

line_reader::line_reader(int fd, std::size_t max_line_bytes)
  : fd_(fd), max_(max_line_bytes), buffer_(1 << 20, '\0') {
  // nop
}

bool line_reader::read_block(
  const std::function<void(std::string_view, std::size_t)>& on_line,
  const std::function<void(std::size_t)>& on_overlong) {
  ssize_t n;
  do
    n = ::read(fd_, buffer_.data(), buffer_.size());
  while (n < 0 && errno == EINTR);
  if (n <= 0) {
    // End of input (or a read error, which ends it too).
    if (!skipping_ && !carry_.empty()) {
      ++line_number_;
      on_line(carry_, line_number_);
    }
    carry_.clear();
    return false;
  }
  std::string_view data{buffer_.data(), static_cast<std::size_t>(n)};
  while (!data.empty()) {
    auto nl = data.find('\n');
    auto piece = data.substr(0, nl);
    if (skipping_) {
      // nop: the rest of an overlong line
    } else if (carry_.size() + piece.size() > max_) {
      skipping_ = true;
      carry_.clear();
      on_overlong(line_number_ + 1);
    } else if (nl != std::string_view::npos && carry_.empty()) {
      ++line_number_;
      on_line(piece, line_number_); // the common case: no copy
    } else {
      carry_.append(piece);
      if (nl != std::string_view::npos) {
        ++line_number_;
        on_line(carry_, line_number_);
        carry_.clear();
      }
    }
    if (nl == std::string_view::npos)
      break;
    if (skipping_) {
      skipping_ = false;
      ++line_number_;
    }
    data.remove_prefix(nl + 1);
  }
  return true;
}

} // namespace bus::node
