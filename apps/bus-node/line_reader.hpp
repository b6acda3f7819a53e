#pragma once

// Reads a file descriptor in large blocks and hands out complete lines.
// A line longer than the limit is never buffered whole: it is dropped as it
// streams past and reported once, so one huge line cannot exhaust memory.

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace bus::node {

class line_reader {
public:
  /// `on_line(line, number)` gets each line without its '\n';
  /// `on_overlong(number)` each line over `max_line_bytes`.
  line_reader(int fd, std::size_t max_line_bytes);

  /// Reads one block and calls back for every line it completes; the final
  /// line of the input counts even without a trailing '\n'. Returns false
  /// at end of input (after the last callbacks).
  bool read_block(const std::function<void(std::string_view, std::size_t)>& on_line,
                  const std::function<void(std::size_t)>& on_overlong);

private:
  int fd_;
  std::size_t max_;
  std::string buffer_;
  std::string carry_;
  bool skipping_ = false;
  std::size_t line_number_ = 0;
};

} // namespace bus::node
