#pragma once

// Captures what is written to std::cout while alive: CAF prints an actor's
// unhandled exception or unexpected message there, and a node speaks its
// protocol there, so a test asserts that nothing was. Boost.Test reports
// failed checks there too: what was captured is written out at the end.

#include <iostream>
#include <sstream>

namespace bus::test {

struct stdout_capture {
  std::stringstream text;
  std::streambuf* old = std::cout.rdbuf(text.rdbuf());
  stdout_capture() = default;
  stdout_capture(const stdout_capture&) = delete;
  stdout_capture& operator=(const stdout_capture&) = delete;
  ~stdout_capture() {
    std::cout.rdbuf(old);
    std::cout << text.str();
  }
};

} // namespace bus::test
