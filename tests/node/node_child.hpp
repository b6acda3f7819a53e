#pragma once

// A child process that a test talks to while it runs (bus-node, or a
// bus-projector): requests go to its stdin as the test goes, replies are
// read from its stdout line by line, its stderr goes to a file the test can
// read. Every wait has a hard deadline; the destructor kills the child with
// SIGKILL if it still runs.

#include <chrono>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace bus::node::test {

class node_child {
public:
  /// Starts `path` with `args`. With `talk` false, stdin and stdout are
  /// /dev/null (a projector node). Throws std::system_error on failure.
  node_child(const std::string& path, const std::vector<std::string>& args,
             bool talk = true);
  ~node_child();

  node_child(const node_child&) = delete;
  node_child& operator=(const node_child&) = delete;

  /// Writes `text` to stdin, reading stdout meanwhile so that neither pipe
  /// can fill up; fails the test after `limit`.
  void send(std::string_view text,
            std::chrono::milliseconds limit = std::chrono::seconds{20});

  /// Returns the next complete stdout line (without '\n'); fails the test
  /// when none arrives within `limit`.
  std::string read_line(std::chrono::milliseconds limit = std::chrono::seconds{20});

  /// Everything written to stderr so far.
  std::string err() const;

  /// Waits until stderr contains `text` and returns stderr; fails the test
  /// when it does not within `limit` or the child exits first.
  std::string wait_for_err(std::string_view text,
                           std::chrono::milliseconds limit = std::chrono::seconds{20});

  /// Sends `signal` and reaps the child (SIGKILL after `limit`). Returns
  /// the raw wait status.
  int stop(int signal, std::chrono::milliseconds limit = std::chrono::seconds{10});

  /// True while the child has not exited.
  bool running();

  /// Waits (hard deadline `limit`, then SIGKILL) until the child exits by
  /// itself and returns its exit code (-1 when it had to be killed or died
  /// of a signal).
  int wait_exit(std::chrono::milliseconds limit);

  pid_t pid() const { return pid_; }

private:
  // Reads what stdout has now into out_; false at end of file.
  bool pump(int timeout_ms);

  pid_t pid_ = -1;
  int in_ = -1;
  int out_fd_ = -1;
  std::string err_path_;
  std::string out_;
  bool reaped_ = false;
  /// The raw wait status, once reaped.
  int status_ = 0;
};

} // namespace bus::node::test
