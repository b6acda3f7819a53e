#pragma once

// Runs bus-node as a child process: feeds it a given stdin, captures its
// stdout and stderr separately and returns its exit status, all under a hard
// time limit (the child is killed with SIGKILL when the limit is exceeded).
// Writing stdin and reading both outputs happen in one poll loop, so large
// inputs and outputs cannot deadlock. Call from the test's thread only; the
// first call ignores SIGPIPE in the test process, so a child that exits
// before reading all of its input cannot kill the test.

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace bus::node::test {

/// The time limit of one run of the node.
constexpr std::chrono::milliseconds default_time_limit{20'000};

/// `limit` times BUS_TEST_TIME_SCALE (a whole number from 1 to 100; 1 when
/// unset): .ci/tsan sets it, since TSan runs the node many times slower.
std::chrono::milliseconds scaled(std::chrono::milliseconds limit);

/// What a finished (or killed) child left behind.
struct process_result {
  /// The exit status, -1 when the child did not exit normally.
  int exit_code = -1;
  /// The signal that ended the child, 0 when it exited normally.
  int term_signal = 0;
  /// True when the child was killed for exceeding the time limit.
  bool timed_out = false;
  /// True when the child was killed on purpose (kill_after_lines).
  bool killed = false;
  /// Everything the child wrote to stdout.
  std::string out;
  /// Everything the child wrote to stderr.
  std::string err;

  /// Returns stdout split into lines without their '\n' (a last line
  /// without '\n' counts too).
  std::vector<std::string> out_lines() const;
};

/// Runs `path` with `args`, writes `input` to its stdin, then closes it.
/// With `kill_after_lines` > 0, kills the child with SIGKILL as soon as that
/// many complete lines have arrived on its stdout (a crash at that point).
/// Throws std::system_error when the child cannot be started.
process_result run_process(const std::string& path,
                           const std::vector<std::string>& args, std::string_view input,
                           std::chrono::milliseconds limit,
                           std::size_t kill_after_lines = 0);

/// Runs bus-node with `input` on stdin and `args` on its command line; fails
/// the current test case when the run exceeds `limit`.
process_result run_node(std::string_view input,
                        const std::vector<std::string>& args = {},
                        std::chrono::milliseconds limit = default_time_limit);

} // namespace bus::node::test
